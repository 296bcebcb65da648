"""When the database is unreachable the API says so (503, JSON) and nothing is half-written."""

from __future__ import annotations

from grc import create_app
from grc.config import Settings


def test_database_down_is_a_503_with_json(tmp_path):
    settings = Settings.from_env(
        {},
        environment="testing",
        instance_path=str(tmp_path),
        # Nothing listens on port 1: the connection is refused at once.
        database_url="postgresql://postgres@127.0.0.1:1/grc",
    )
    client = create_app(settings).test_client()
    response = client.get("/api/v1/claims", headers={"Authorization": "Bearer grc_whatever"})
    assert response.status_code == 503
    assert response.json["code"] == 503
    assert "nothing was saved" in response.json["message"]
    assert response.headers["Retry-After"] == "5"


def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    paths = spec.json["paths"]
    for path in (
        "/api/v1/categories",
        "/api/v1/tenants",
        "/api/v1/claims",
        "/api/v1/claims/{claim_id}",
        "/api/v1/claims/{claim_id}/transitions",
        "/api/v1/claims/{claim_id}/comments",
    ):
        assert path in paths
    assert spec.json["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    create = paths["/api/v1/claims"]["post"]
    assert "201" in create["responses"]
    assert "422" in create["responses"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"/api/docs/assets/swagger-ui-bundle.js" in docs.data
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert asset.get_data()[:100]
    asset.close()


def test_an_oversized_body_is_refused_with_a_json_413_before_it_is_read(client, world):
    from grc.config import MAX_REQUEST_BYTES

    flood = b'{"description": "' + b"x" * MAX_REQUEST_BYTES + b'"}'
    response = client.post(
        "/api/v1/claims",
        data=flood,
        headers={**world.headers("agent"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.is_json
    assert response.json["code"] == 413
