from tests.factories import claim_payload


def test_leak_in_covered_dwelling_goes_to_the_contractor(client, world):
    response = client.post(
        "/api/v1/claims", json=claim_payload(world), headers=world.headers("agent")
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["route"]["kind"] == "contractor"
