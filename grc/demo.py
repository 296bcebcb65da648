"""A realistic demo landlord for ``flask grc demo``: stock, tenants, organisation, contracts,
staff users and a year of claims.

The stock and the tenants go in with bulk inserts (tens of thousands of rows in seconds);
claims go through the product's own ``create_claim`` and ``transition_claim`` so routing,
SLA deadlines and timelines are exactly what the application would have produced. The same
seed on the same day gives the same data. This loader is for the CLI only: unlike the
operations it calls, it commits, in batches, so memory stays flat whatever the sizes.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from grc.auth import issue_token
from grc.catalogue import load_catalogue
from grc.claims.lifecycle import Action
from grc.claims.models import (
    Category,
    Claim,
    ClaimEvent,
    ClaimStatus,
    Clock,
    IntakeChannel,
    LocationKind,
    RouteKind,
    RoutingRule,
    TreatmentUnit,
    Visibility,
)
from grc.claims.operations import NewClaim, TransitionRequest, add_comment, create_claim
from grc.claims.operations import transition_claim as _transition
from grc.clock import settings
from grc.contracts.models import Contract, Contractor, contract_categories, contract_residences
from grc.db import utcnow
from grc.housing.models import (
    Agency,
    Building,
    Dwelling,
    Equipment,
    EquipmentKind,
    Residence,
    Territory,
)
from grc.messaging.models import DeliveryStatus, OutboxMessage
from grc.people.models import Channel, Lease, PhoneKind, Role, Tenant, TenantPhone, User
from grc.people.search import normalise_phone

TOKENS_FILE = "demo-tokens.json"
DEMO_PROVIDER = "demo"
CLAIMS_PER_COMMIT = 500
# Stock is generated and committed a few thousand dwellings at a time.
DWELLINGS_PER_COMMIT = 5_000
OCCUPANCY = 0.95
# French accessibility rules ask for an elevator from R+4 (five levels) upwards.
ELEVATOR_FROM_TOP_FLOOR = 4

AGENCY_UNIT_KINDS = {
    "technique": ("TECH", "Conseillers habitat"),
    "proximite": ("PROX", "Proximité"),
    "gestion_locative": ("GL", "Gestion locative"),
    "recouvrement": ("RECOUV", "Recouvrement"),
    "social": ("SOCIAL", "Accompagnement social"),
}
COMPANY_UNITS = {
    "tranquillite": ("TRANQUILLITE", "Tranquillité résidentielle"),
    "sinistres": ("SINISTRES", "Sinistres et assurances"),
    "astreinte": ("ASTREINTE", "Astreinte technique"),
}


@dataclass(frozen=True)
class DemoSizes:
    dwellings: int = 20_000
    claims: int = 6_000


# --- Reference data: places and people -----------------------------------------------------


@dataclass(frozen=True)
class _City:
    name: str
    postcode: str
    department: str
    neighbourhoods: tuple[str, ...]
    streets: tuple[str, ...]
    landline_prefix: str  # "03 87": Moselle, "03 83": Meurthe-et-Moselle, "03 29": Vosges


@dataclass(frozen=True)
class _AgencySpec:
    code: str
    prefix: str  # of its residence codes
    name: str
    territory: str
    share: float
    cities: tuple[tuple[_City, float], ...]
    # Residences that must exist whatever the size (a directorate's stock outside its area).
    required: tuple[_City, ...] = ()


_METZ_EST = _City(
    "Metz",
    "57070",
    "57",
    ("Borny", "Queuleu", "Grange-aux-Bois", "Bellecroix"),
    (
        "boulevard de Guyenne",
        "rue de Bourgogne",
        "rue du Bon Pasteur",
        "rue de Champagne",
        "rue d'Anjou",
        "rue de Picardie",
        "rue des Mésanges",
        "rue du Saulnois",
        "rue Jean-Baptiste Vacquant",
    ),
    "03 87",
)
_METZ_NORD = _City(
    "Metz",
    "57050",
    "57",
    ("La Patrotte", "Devant-les-Ponts", "Metz-Nord"),
    (
        "rue de la Patrotte",
        "route de Thionville",
        "rue Théodore de Gargan",
        "rue des Érables",
        "rue du Général Fournier",
        "chemin sous les Vignes",
    ),
    "03 87",
)
_METZ_SUD = _City(
    "Metz",
    "57000",
    "57",
    ("Le Sablon", "Magny", "Nouvelle Ville"),
    (
        "rue Saint-Bernard",
        "rue de la Chapelle",
        "avenue de Strasbourg",
        "rue Mangin",
        "rue des Robert",
        "rue du Maréchal Lyautey",
    ),
    "03 87",
)
_MONTIGNY = _City(
    "Montigny-lès-Metz",
    "57950",
    "57",
    ("Saint-Privat", "Les Friches"),
    ("rue de Pont-à-Mousson", "rue Franiatte", "rue des Loges", "rue de l'Abbé Grégoire"),
    "03 87",
)
_WOIPPY = _City(
    "Woippy",
    "57140",
    "57",
    ("Saint-Éloy", "Pré-Génie", "Le Roi"),
    (
        "rue de Bretagne",
        "rue du Pré-Génie",
        "place Jean Perrin",
        "rue de Normandie",
        "rue Pierre et Marie Curie",
        "rue des Jardins",
    ),
    "03 87",
)
_MAIZIERES = _City(
    "Maizières-lès-Metz",
    "57280",
    "57",
    ("Le Ruisseau", "La Plaine"),
    ("rue de Metz", "rue des Alliés", "rue Lafayette", "rue de la Paix"),
    "03 87",
)
_HAGONDANGE = _City(
    "Hagondange",
    "57300",
    "57",
    ("Les Jardins", "Centre"),
    ("rue de Gaulle", "rue Clemenceau", "rue de Mondelange"),
    "03 87",
)
_THIONVILLE = _City(
    "Thionville",
    "57100",
    "57",
    ("Côte des Roses", "Saint-Pierre", "Guentrange"),
    (
        "rue de Verdun",
        "boulevard Foch",
        "rue des Roses",
        "allée de la Libération",
        "rue de Longwy",
        "rue du Manège",
    ),
    "03 82",
)
_YUTZ = _City(
    "Yutz",
    "57970",
    "57",
    ("Cité Saint-Nicolas", "Les Terrasses"),
    ("rue de l'Église", "avenue des Nations", "rue Jean Moulin", "rue Sainte-Barbe"),
    "03 82",
)
_HAYANGE = _City(
    "Hayange",
    "57700",
    "57",
    ("Marspich", "Saint-Nicolas-en-Forêt"),
    ("rue de Wendel", "rue de Verdun", "rue des Mineurs", "avenue de la Gare"),
    "03 82",
)
_FAMECK = _City(
    "Fameck",
    "57290",
    "57",
    ("Cité Sociale", "Remelange"),
    ("rue de Touraine", "avenue Saint-Exupéry", "rue du Berry"),
    "03 82",
)
_SAINT_AVOLD = _City(
    "Saint-Avold",
    "57500",
    "57",
    ("Le Wenheck", "La Carrière", "Arcadia"),
    (
        "rue des Américains",
        "rue de la Chapelle",
        "rue Poincaré",
        "rue du Gros Hêtre",
        "rue des Tuileries",
    ),
    "03 87",
)
_CREUTZWALD = _City(
    "Creutzwald",
    "57150",
    "57",
    ("La Houve", "Garang"),
    ("rue de la Houve", "rue du Maréchal Foch", "rue des Mineurs", "rue de Ham"),
    "03 87",
)
_FAULQUEMONT = _City(
    "Faulquemont",
    "57380",
    "57",
    ("Cité Chapelle",),
    ("rue de la Gare", "rue des Écoles", "rue de la Nied"),
    "03 87",
)
_FORBACH = _City(
    "Forbach",
    "57600",
    "57",
    ("Le Wiesberg", "Bellevue", "Le Bruch"),
    (
        "rue du Wiesberg",
        "avenue Saint-Rémy",
        "rue de la Petite Forêt",
        "rue Nationale",
        "rue du Bruch",
    ),
    "03 87",
)
_STIRING = _City(
    "Stiring-Wendel",
    "57350",
    "57",
    ("Habsterdick", "Verrerie-Sophie"),
    ("rue de Verdun", "rue des Trois Cités", "rue Saint-Joseph"),
    "03 87",
)
_BEHREN = _City(
    "Behren-lès-Forbach",
    "57460",
    "57",
    ("Cité Bellevue",),
    ("rue de Picardie", "rue de Provence", "rue de Savoie"),
    "03 87",
)
_NANCY = _City(
    "Nancy",
    "54000",
    "54",
    ("Haussonville", "Plateau de Haye", "Trois Maisons"),
    (
        "rue de Mon Désert",
        "boulevard d'Austrasie",
        "rue de la Commanderie",
        "avenue du Rhin",
        "rue de Toul",
        "rue Jeanne d'Arc",
    ),
    "03 83",
)
_VANDOEUVRE = _City(
    "Vandœuvre-lès-Nancy",
    "54500",
    "54",
    ("Les Nations", "Le Vélodrome"),
    ("boulevard de l'Europe", "rue de Norvège", "rue de Lorraine", "allée de Brabois"),
    "03 83",
)
_LAXOU = _City(
    "Laxou",
    "54520",
    "54",
    ("Les Provinces", "Champ-le-Bœuf"),
    ("rue de Guyenne", "rue de Provence", "avenue de la Résistance"),
    "03 83",
)
_MAXEVILLE = _City(
    "Maxéville",
    "54320",
    "54",
    ("Champ-le-Bœuf", "Les Aulnes"),
    ("rue de la Meurthe", "rue du Général Leclerc", "rue de Lorraine"),
    "03 83",
)
_TOMBLAINE = _City(
    "Tomblaine",
    "54510",
    "54",
    ("Les Jardins Fleuris",),
    ("avenue de la Paix", "rue Jean Jaurès", "rue des Jardins Fleuris"),
    "03 83",
)
_EPINAL = _City(
    "Épinal",
    "88000",
    "88",
    ("La Justice", "Bitola", "Champbeauvert"),
    ("rue de Nancy", "avenue Saint-Dié", "rue du Général Haxo", "rue de la Justice"),
    "03 29",
)

AGENCIES = (
    _AgencySpec(
        "METZ",
        "METZ",
        "Agence de Metz",
        "MOS",
        0.25,
        ((_METZ_EST, 0.45), (_METZ_NORD, 0.25), (_METZ_SUD, 0.15), (_MONTIGNY, 0.15)),
    ),
    _AgencySpec(
        "WOIPPY",
        "WOI",
        "Agence de Woippy",
        "MOS",
        0.12,
        ((_WOIPPY, 0.6), (_MAIZIERES, 0.25), (_HAGONDANGE, 0.15)),
    ),
    _AgencySpec(
        "THIONVILLE",
        "THI",
        "Agence de Thionville",
        "MOS",
        0.17,
        ((_THIONVILLE, 0.5), (_YUTZ, 0.2), (_HAYANGE, 0.15), (_FAMECK, 0.15)),
    ),
    _AgencySpec(
        "STAVOLD",
        "STA",
        "Agence de Saint-Avold",
        "MOS",
        0.12,
        ((_SAINT_AVOLD, 0.55), (_CREUTZWALD, 0.3), (_FAULQUEMONT, 0.15)),
    ),
    _AgencySpec(
        "FORBACH",
        "FOR",
        "Agence de Forbach",
        "MOS",
        0.12,
        ((_FORBACH, 0.55), (_STIRING, 0.25), (_BEHREN, 0.2)),
    ),
    # The directorate manages its stock itself, so routing treats it as one more agency.
    _AgencySpec(
        "NANCY",
        "NCY",
        "Direction territoriale de Nancy",
        "MM",
        0.22,
        (
            (_NANCY, 0.4),
            (_VANDOEUVRE, 0.25),
            (_LAXOU, 0.12),
            (_MAXEVILLE, 0.1),
            (_TOMBLAINE, 0.08),
            (_EPINAL, 0.05),
        ),
        required=(_NANCY, _EPINAL),
    ),
)
MULTISERVICE_AGENCIES = ("METZ", "WOIPPY", "THIONVILLE")
# Who is on call out of hours, per agency. The numbers are in the range the telecoms
# regulator (ARCEP) keeps for fiction (06 39 98 xx xx): no real phone ever rings.
ON_CALL = {
    "METZ": ("Astreinte Metz", "06 39 98 00 01"),
    "WOIPPY": ("Astreinte Woippy", "06 39 98 00 02"),
    "THIONVILLE": ("Astreinte Thionville", "06 39 98 00 03"),
    "STAVOLD": ("Astreinte Saint-Avold", "06 39 98 00 04"),
    "FORBACH": ("Astreinte Forbach", "06 39 98 00 05"),
    "NANCY": ("Astreinte Nancy", "06 39 98 00 06"),
}
# The number the README searches for: the first current tenant of the demo holds it.
README_PHONE = "06 12 34 56 78"

RESIDENCE_NAMES = (
    "Les Tilleuls",
    "Les Acacias",
    "Les Peupliers",
    "Bellevue",
    "Le Clos Fleuri",
    "Les Érables",
    "Les Charmilles",
    "La Roseraie",
    "Les Mésanges",
    "Le Belvédère",
    "Les Marronniers",
    "Les Coteaux",
    "La Fontaine",
    "Les Lilas",
    "Le Verger",
    "Les Glycines",
    "Les Bleuets",
    "Le Mail",
    "Les Rives de la Moselle",
    "Saint-Exupéry",
    "Jean Moulin",
    "Victor Hugo",
    "Les Cerisiers",
    "Le Hameau du Moulin",
    "La Clairière",
    "Les Sorbiers",
    "Les Alouettes",
    "Pasteur",
    "Les Primevères",
    "Le Carré Saint-Martin",
    "Les Terrasses",
    "Les Vergers",
    "Les Hêtres",
    "Le Parc",
    "Les Jardins de la Seille",
    "Émile Zola",
    "Les Chênes",
    "Les Hauts de Seille",
    "Le Clos des Vignes",
    "Les Myosotis",
    "La Pépinière",
    "Le Château d'Eau",
)

FIRST_NAMES = (
    "Élodie",
    "Hélène",
    "Jérôme",
    "Frédéric",
    "Céline",
    "Stéphane",
    "Zoé",
    "Chloé",
    "Anaïs",
    "Maël",
    "Noémie",
    "Gaëlle",
    "Benoît",
    "François",
    "Loïc",
    "Mégane",
    "Léa",
    "Inès",
    "Jean",
    "Marie",
    "Nathalie",
    "Sandrine",
    "Isabelle",
    "Sylvie",
    "Christophe",
    "Nicolas",
    "Thomas",
    "Julien",
    "Laurent",
    "Sébastien",
    "Aurélie",
    "Émilie",
    "Camille",
    "Manon",
    "Lucas",
    "Hugo",
    "Théo",
    "Louis",
    "Raphaël",
    "Gabriel",
    "Yasmine",
    "Mohamed",
    "Karim",
    "Nadia",
    "Fatima",
    "Samir",
    "Rachid",
    "Leïla",
    "Mehmet",
    "Emine",
    "Ahmet",
    "Giuseppe",
    "Maria",
    "José",
    "Ana",
    "Piotr",
    "Agnieszka",
    "Monique",
    "Josiane",
    "Gérard",
    "Bernard",
    "Michèle",
    "Renée",
    "André",
    "Joël",
    "Noël",
    "Cédric",
    "Jérémy",
    "Kévin",
    "Océane",
    "Clément",
    "Mathéo",
    "Aïcha",
    "Moussa",
    "Fabienne",
    "Véronique",
    "Pascal",
    "Dominique",
)
LAST_NAMES = (
    "Müller",
    "Schmitt",
    "Weber",
    "Klein",
    "Becker",
    "Wagner",
    "Hoffmann",
    "Schneider",
    "Meyer",
    "Fischer",
    "Krebs",
    "Thiébaut",
    "Lefèvre",
    "Lambert",
    "François",
    "Mathieu",
    "Martin",
    "Bernard",
    "Petit",
    "Dubois",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Michel",
    "Garcia",
    "Da Silva",
    "Ferreira",
    "Rossi",
    "Bianchi",
    "Benali",
    "Haddad",
    "Yılmaz",
    "Kaya",
    "Nowak",
    "Kowalski",
    "Gérard",
    "Thiéry",
    "Collignon",
    "Hennequin",
    "Marchal",
    "Jacquemin",
    "Humbert",
    "Poirot",
    "Leclerc",
    "Noël",
    "Bénard",
    "Kieffer",
    "Schwartz",
    "Zimmermann",
    "Boulanger",
    "Chrétien",
    "Lefebvre",
    "Muller",
    "Gaspard",
    "Rémy",
    "Cordier",
    "Hérold",
    "Stéphan",
    "Wéber",
    "Guérin",
    "Mercier",
    "Fontaine",
    "Chevalier",
    "Robert",
    "Richard",
    "Dos Santos",
    "Pereira",
    "Ben Ahmed",
    "Diallo",
    "Traoré",
    "Nguyen",
    "Öztürk",
    "Dupont",
    "Lorrain",
    "Antoine",
    "Pierron",
    "Baudoin",
    "Hermann",
    "Keller",
    "Schaeffer",
    "Jung",
)
EMAIL_DOMAINS = ("example.org", "example.net", "example.com")  # reserved: never a real inbox

CONTRACTORS = {
    "MULTI": (
        "Multiservices Lorraine",
        "ordres@multiservices-lorraine.example.com",
        "03 87 50 10 20",
    ),
    "ASCEST": ("Ascenseurs de l'Est", "sav@ascenseurs-est.example.com", "03 87 62 33 00"),
    "THERMIQUE": (
        "Thermique Moselle Services",
        "interventions@thermique-ms.example.com",
        "03 87 29 41 41",
    ),
    "NETHAB": ("Net'Habitat Propreté", "planning@nethabitat.example.com", "03 83 90 12 12"),
    "HYGIENE3D": ("Lorraine Hygiène 3D", "contact@hygiene3d.example.com", "03 83 44 80 80"),
}

# Relative frequency of each category among a year's claims (from a landlord of this size);
# a category missing here (added to the catalogue later) counts 1.
CATEGORY_WEIGHTS = {
    "PLB-FUITE": 6,
    "PLB-ENGORG": 7,
    "PLB-ROBINET": 6,
    "PLB-CHASSE": 4,
    "PLB-EAU-CHAUDE": 3,
    "PLB-COLONNE": 1,
    "CHF-LOGEMENT": 6,
    "CHF-COLLECTIF": 1.5,
    "CHF-RADIATEUR": 4,
    "CHF-CHAUDIERE": 2,
    "CHF-ODEUR-GAZ": 0.5,
    "ELEC-LOGEMENT": 2,
    "ELEC-PRISE": 2.5,
    "ELEC-ECLAIRAGE-PC": 3,
    "ELEC-INTERPHONE": 2.5,
    "ASC-PANNE": 3,
    "ASC-BLOQUE": 0.4,
    "ASC-DYSFONCT": 1,
    "MEN-PORTE-HALL": 2.5,
    "MEN-SERRURE": 2,
    "MEN-FENETRE": 2,
    "MEN-VOLET": 3,
    "MEN-BAL": 1.5,
    "VMC-PANNE": 2,
    "VMC-HUMIDITE": 3.5,
    "PRO-PC": 3,
    "PRO-ENCOMBRANTS": 3,
    "PRO-ORDURES": 1.5,
    "PRO-NUISIBLES": 2,
    "EXT-ESPACES-VERTS": 1,
    "EXT-PORTAIL": 0.8,
    "EXT-STATIONNEMENT": 1,
    "VOI-BRUIT": 5,
    "VOI-TROUBLE": 2,
    "VOI-DEGRADATION": 1.5,
    "VOI-SQUAT": 0.7,
    "LOC-AVIS": 6,
    "LOC-CHARGES": 3,
    "LOC-ATTESTATION": 4,
    "LOC-PRELEVEMENT": 2,
    "LOC-ASSURANCE": 2,
    "LOC-CONGE": 1.5,
    "LOC-MUTATION": 1.5,
    "SOC-PAIEMENT": 1.5,
    "SOC-ADAPTATION": 0.6,
    "SIN-DEGAT-EAUX": 2,
    "SIN-INCENDIE": 0.2,
}
# Heating breaks down in winter, green spaces grow in summer, charges are reconciled in spring.
_WINTER, _SUMMER = {11, 12, 1, 2, 3}, {6, 7, 8}
SEASONS: dict[str, Callable[[int], float]] = {
    "CHF": lambda m: 2.2 if m in _WINTER else 0.3 if m in _SUMMER else 1.0,
    "VMC-HUMIDITE": lambda m: 1.8 if m in _WINTER else 0.5 if m in _SUMMER else 1.0,
    "EXT-ESPACES-VERTS": lambda m: 2.5 if 4 <= m <= 9 else 0.2,
    "LOC-CHARGES": lambda m: 3.0 if 4 <= m <= 6 else 0.6,
    "VOI-BRUIT": lambda m: 1.5 if m in _SUMMER else 1.0,
}

DESCRIPTIONS = {
    "PLB-FUITE": (
        "Fuite sous l'évier de la cuisine, l'eau coule en continu.",
        "De l'eau coule du plafond de la salle de bains.",
    ),
    "PLB-ENGORG": (
        "Les WC sont bouchés, l'eau ne s'évacue plus.",
        "L'évier de la cuisine est bouché depuis hier.",
    ),
    "PLB-ROBINET": (
        "Le robinet de la salle de bains goutte sans arrêt.",
        "Le joint du mitigeur de la douche fuit.",
    ),
    "PLB-CHASSE": ("La chasse d'eau coule en permanence.", "Le bouton de la chasse est cassé."),
    "PLB-EAU-CHAUDE": (
        "Plus d'eau chaude depuis ce matin.",
        "L'eau chaude ne sort que tiède, le ballon fait du bruit.",
    ),
    "PLB-COLONNE": (
        "Fuite sur la colonne d'eau dans la cave.",
        "De l'eau suinte dans la gaine technique du palier.",
    ),
    "CHF-LOGEMENT": (
        "Plus de chauffage dans tout le logement.",
        "Les radiateurs restent froids depuis deux jours.",
    ),
    "CHF-COLLECTIF": (
        "Plus de chauffage ni d'eau chaude dans tout l'immeuble.",
        "La chaufferie est en panne, plusieurs voisins ont appelé.",
    ),
    "CHF-RADIATEUR": (
        "Le radiateur de la chambre reste froid.",
        "Le radiateur du séjour fuit au niveau du robinet.",
    ),
    "CHF-CHAUDIERE": (
        "La chaudière est en défaut et ne redémarre pas.",
        "La chaudière s'arrête toute seule plusieurs fois par jour.",
    ),
    "CHF-ODEUR-GAZ": (
        "Forte odeur de gaz dans la cuisine.",
        "Odeur de gaz sur le palier du deuxième étage.",
    ),
    "ELEC-LOGEMENT": (
        "Plus de courant dans la moitié du logement, le disjoncteur saute.",
        "Coupure d'électricité dans la cuisine.",
    ),
    "ELEC-PRISE": (
        "Une prise de la chambre ne fonctionne plus.",
        "L'interrupteur du couloir est cassé.",
    ),
    "ELEC-ECLAIRAGE-PC": (
        "L'éclairage de la cage d'escalier ne fonctionne plus.",
        "Les lumières du hall restent éteintes.",
    ),
    "ELEC-INTERPHONE": (
        "L'interphone ne sonne plus dans les logements.",
        "Le digicode de la porte d'entrée est en panne.",
    ),
    "ASC-PANNE": (
        "L'ascenseur est en panne depuis ce matin.",
        "L'ascenseur est bloqué au rez-de-chaussée, porte ouverte.",
    ),
    "ASC-BLOQUE": (
        "Une personne est bloquée dans l'ascenseur entre deux étages.",
        "Un enfant est coincé dans la cabine de l'ascenseur.",
    ),
    "ASC-DYSFONCT": (
        "L'ascenseur s'arrête en décalage avec le palier.",
        "L'ascenseur fait un bruit de frottement inquiétant.",
    ),
    "MEN-PORTE-HALL": (
        "La porte du hall ne se ferme plus, la ventouse ne tient pas.",
        "La porte d'entrée de l'immeuble reste ouverte en permanence.",
    ),
    "MEN-SERRURE": (
        "La serrure de la porte d'entrée est bloquée.",
        "La clé tourne dans le vide, impossible de fermer à clé.",
    ),
    "MEN-FENETRE": (
        "La fenêtre de la chambre ne ferme plus.",
        "La poignée de la porte-fenêtre du séjour est cassée.",
    ),
    "MEN-VOLET": (
        "Le volet roulant de la chambre est bloqué en position basse.",
        "La sangle du volet du séjour a cassé.",
    ),
    "MEN-BAL": (
        "Ma boîte aux lettres a été forcée.",
        "La porte de la boîte aux lettres est cassée.",
    ),
    "VMC-PANNE": (
        "La VMC ne tourne plus, aucune aspiration dans la salle de bains.",
        "La ventilation fait un bruit très fort.",
    ),
    "VMC-HUMIDITE": (
        "Moisissures au plafond de la chambre.",
        "Beaucoup d'humidité dans la salle de bains, le papier peint se décolle.",
    ),
    "PRO-PC": (
        "Les escaliers n'ont pas été nettoyés depuis deux semaines.",
        "Le hall est très sale.",
    ),
    "PRO-ENCOMBRANTS": (
        "Un matelas et un canapé sont abandonnés dans le hall.",
        "Des encombrants bloquent l'accès aux caves.",
    ),
    "PRO-ORDURES": (
        "Le local poubelles déborde et sent très mauvais.",
        "Le couvercle du bac jaune est cassé.",
    ),
    "PRO-NUISIBLES": (
        "Présence de cafards dans la cuisine et les parties communes.",
        "Des rats ont été vus près du local poubelles.",
    ),
    "EXT-ESPACES-VERTS": (
        "L'herbe n'a pas été tondue depuis des semaines.",
        "Les haies débordent sur le trottoir.",
    ),
    "EXT-PORTAIL": (
        "La barrière du parking ne s'ouvre plus avec le badge.",
        "Le portail reste bloqué ouvert.",
    ),
    "EXT-STATIONNEMENT": (
        "Une voiture sans plaques est garée sur le parking depuis un mois.",
        "Un véhicule bloque l'accès pompiers.",
    ),
    "VOI-BRUIT": (
        "Musique forte tous les soirs après minuit chez le voisin du dessus.",
        "Bruits de pas et de meubles déplacés la nuit.",
    ),
    "VOI-TROUBLE": (
        "Conflit avec un voisin qui insulte les habitants.",
        "Rassemblements bruyants devant l'entrée le soir.",
    ),
    "VOI-DEGRADATION": (
        "Tags dans la cage d'escalier.",
        "La vitre de la porte du hall est brisée.",
    ),
    "VOI-SQUAT": (
        "Des personnes occupent le hall tous les soirs.",
        "La cave est squattée, la porte a été forcée.",
    ),
    "LOC-AVIS": (
        "Je ne comprends pas le montant de mon avis d'échéance.",
        "Le loyer de ce mois a augmenté, pourquoi ?",
    ),
    "LOC-CHARGES": (
        "Je conteste le montant de la régularisation des charges.",
        "Je voudrais le détail des charges de l'année dernière.",
    ),
    "LOC-ATTESTATION": (
        "J'ai besoin d'une attestation de loyer à jour pour la CAF.",
        "Demande d'attestation de domicile.",
    ),
    "LOC-PRELEVEMENT": (
        "Je voudrais mettre en place le prélèvement automatique.",
        "J'ai changé de banque, il faut modifier mon prélèvement.",
    ),
    "LOC-ASSURANCE": (
        "J'envoie mon attestation d'assurance habitation.",
        "Vous m'avez écrit que mon attestation d'assurance manque.",
    ),
    "LOC-CONGE": (
        "Je souhaite donner mon préavis de départ.",
        "Nous quittons le logement à la fin du mois prochain.",
    ),
    "LOC-MUTATION": (
        "Le logement est devenu trop petit, nous demandons un T4.",
        "Je ne peux plus monter les escaliers, je demande un rez-de-chaussée.",
    ),
    "SOC-PAIEMENT": (
        "Je ne peux pas payer le loyer ce mois-ci, je viens de perdre mon emploi.",
        "Je voudrais un échéancier pour ma dette de loyer.",
    ),
    "SOC-ADAPTATION": (
        "Je voudrais remplacer la baignoire par une douche, j'ai 82 ans.",
        "Demande de barres d'appui dans la salle de bains.",
    ),
    "SIN-DEGAT-EAUX": (
        "Dégât des eaux venant du logement du dessus, plafond taché.",
        "Déclaration de dégât des eaux : le plafond de la cuisine a gonflé.",
    ),
    "SIN-INCENDIE": (
        "Feu de poubelles dans le local, la cage d'escalier est noircie.",
        "Incendie dans une cave, les pompiers sont intervenus.",
    ),
}
FCR_ANSWERS = {
    "LOC-AVIS": "Détail de l'avis d'échéance expliqué (révision annuelle du loyer et provisions).",
    "LOC-CHARGES": "Décompte de régularisation expliqué ligne par ligne ; locataire d'accord.",
    "LOC-ATTESTATION": "Attestation envoyée par courriel pendant l'appel.",
    "LOC-PRELEVEMENT": "Mandat de prélèvement SEPA envoyé par courriel.",
    "LOC-ASSURANCE": "Attestation d'assurance reçue et enregistrée.",
    "CHF-ODEUR-GAZ": "Consignes de sécurité données ; locataire orienté vers GRDF Urgence Gaz.",
}
FCR_GENERIC = (
    "Conseil donné par téléphone : le problème est réglé.",
    "Demande déjà en cours pour ce logement ; locataire informé du rendez-vous prévu.",
    "Réparation à la charge du locataire (décret 87-712) : explication donnée.",
)
RESOLUTIONS = {
    "PLB": (
        "Intervention du plombier : joint remplacé, plus de fuite.",
        "Canalisation débouchée, fonctionnement vérifié.",
    ),
    "CHF": (
        "Chauffage remis en service, purge des radiateurs effectuée.",
        "Pièce remplacée sur la chaudière, fonctionnement vérifié.",
    ),
    "ELEC": ("Électricien passé : disjoncteur remplacé.", "Éclairage réparé, ampoules changées."),
    "ASC": (
        "Ascensoriste intervenu : carte de commande remplacée, appareil remis en service.",
        "Personne libérée et ascenseur remis en service.",
    ),
    "MEN": ("Serrurier passé, réglage effectué.", "Pièce remplacée, fermeture vérifiée."),
    "VMC": ("Bouches de VMC nettoyées, moteur vérifié.", "Traitement anti-humidité réalisé."),
    "PRO": ("Nettoyage effectué par le prestataire.", "Encombrants enlevés par le gardien."),
    "EXT": ("Entretien réalisé.", "Véhicule enlevé par la fourrière."),
    "VOI": (
        "Courrier de rappel au règlement envoyé au voisin.",
        "Médiation réalisée entre les voisins.",
    ),
    "LOC": ("Réponse écrite envoyée au locataire.", "Dossier mis à jour, locataire informé."),
    "SOC": (
        "Plan d'apurement signé avec la conseillère sociale.",
        "Visite à domicile réalisée, dossier transmis à la commission.",
    ),
    "SIN": (
        "Dossier transmis à l'assureur, expertise réalisée.",
        "Travaux de remise en état réalisés après expertise.",
    ),
}
CANCEL_REASONS = (
    "Doublon d'une réclamation déjà enregistrée.",
    "Le locataire a réglé le problème lui-même.",
    "Demande retirée par le locataire.",
)


# --- The loader ----------------------------------------------------------------------------


@dataclass
class _DwellingInfo:
    id: int
    building_id: int
    leases: list[tuple[int, date, date | None]]  # (tenant_id, start, end), oldest first

    def tenant_on(self, day: date) -> int | None:
        for tenant_id, start, end in reversed(self.leases):
            if start <= day and (end is None or end >= day):
                return tenant_id
        return None


@dataclass
class _Stock:
    residences: int = 0
    buildings: int = 0
    equipment: Counter[str] = field(default_factory=Counter)
    tenants: int = 0
    phones: int = 0
    current_leases: int = 0
    departments: set[str] = field(default_factory=set)
    # What claims need to pick realistic locations.
    dwellings: list[_DwellingInfo] = field(default_factory=list)
    dwelling_by_id: dict[int, _DwellingInfo] = field(default_factory=dict)
    building_dwellings: dict[int, list[int]] = field(default_factory=dict)
    equipment_by_kind: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    residence_ids_by_agency: dict[str, list[int]] = field(default_factory=dict)
    residences_with: dict[str, set[int]] = field(default_factory=dict)


class DemoError(RuntimeError):
    """The demo cannot be loaded (the database is not empty)."""


def load_demo(
    session: Session,
    sizes: DemoSizes,
    seed: int = 2026,
    echo: Callable[[str], Any] = print,
    *,
    now: datetime | None = None,
) -> list[str]:
    """Load the demo landlord and return a human summary; ``now`` defaults to the clock."""
    if session.execute(sa.select(sa.func.count(Territory.id))).scalar_one():
        raise DemoError("The database already has an organisation; use an empty database.")
    started = time.perf_counter()
    tz = settings().tz
    now = now or utcnow()
    # Everything happens before today's local midnight: the same seed on the same day gives
    # the same data, and claims filed "today" are left to the real users of the demo.
    anchor_day = now.astimezone(tz).date()
    anchor = datetime(anchor_day.year, anchor_day.month, anchor_day.day, tzinfo=tz).astimezone(UTC)

    _, categories = load_catalogue(session)
    session.commit()
    org = _load_organisation(session)
    echo(f"Catalogue ({categories} categories) and organisation loaded.")

    stock = _load_stock(session, sizes.dwellings, random.Random(seed), anchor_day, now, org, echo)
    stock_seconds = time.perf_counter() - started
    echo(f"Stock and tenants loaded in {stock_seconds:.1f} s.")

    contracts = _load_contracts(session, org, stock, anchor_day)
    users, tokens = _load_users(session, org)
    session.commit()
    tokens_path = _write_tokens(tokens)

    claim_stats = _load_claims(
        session, sizes.claims, random.Random(f"{seed}-claims"), anchor, tz, stock, users, echo
    )
    elapsed = time.perf_counter() - started

    occupied = stock.current_leases / max(1, len(stock.dwellings))
    return [
        f"Demo landlord loaded in {elapsed:.1f} s (seed {seed}; stock {stock_seconds:.1f} s, "
        f"claims {elapsed - stock_seconds:.1f} s).",
        f"Organisation: 2 territories, {len(AGENCIES)} agencies, {len(org.units)} treatment "
        f"units, {len(CONTRACTORS)} contractors, {contracts} contracts, {users.count} users.",
        f"Stock: {stock.residences:,} residences (departments "
        f"{', '.join(sorted(stock.departments))}), {stock.buildings:,} building entrances, "
        f"{len(stock.dwellings):,} dwellings, {sum(stock.equipment.values()):,} pieces of "
        f"equipment ({stock.equipment['elevator']:,} elevators).",
        f"Tenants: {stock.tenants:,} ({stock.phones:,} phone numbers), "
        f"{stock.current_leases:,} current leases ({occupied:.0%} of dwellings occupied).",
        *claim_stats,
        f"API tokens (also in {tokens_path}):",
        *(f"  {role:<8} {secret}" for role, secret in tokens.items()),
    ]


@dataclass
class _Organisation:
    territories: dict[str, int]
    agencies: dict[str, int]
    units: dict[str, int]  # "METZ-technique" or "tranquillite" -> id


def _load_organisation(session: Session) -> _Organisation:
    territories = {
        "MOS": Territory(code="MOS", name="Moselle"),
        "MM": Territory(code="MM", name="Meurthe-et-Moselle"),
    }
    agencies: dict[str, Agency] = {}
    units: dict[str, TreatmentUnit] = {}
    for spec in AGENCIES:
        on_call_name, on_call_phone = ON_CALL[spec.code]
        agency = Agency(
            code=spec.code,
            name=spec.name,
            territory=territories[spec.territory],
            on_call_name=on_call_name,
            on_call_phone=normalise_phone(on_call_phone),
        )
        agencies[spec.code] = agency
        short = spec.name.split(" de ", 1)[-1]
        for kind, (suffix, label) in AGENCY_UNIT_KINDS.items():
            units[f"{spec.code}-{kind}"] = TreatmentUnit(
                code=f"{spec.code}-{suffix}",
                name=f"{label} {short}",
                kind=kind,
                agency=agency,
                email=f"{kind.replace('_', '-')}.{spec.code.lower()}@bailleur.example.org",
            )
    for kind, (code, label) in COMPANY_UNITS.items():
        units[kind] = TreatmentUnit(
            code=code, name=label, kind=kind, email=f"{kind}@bailleur.example.org"
        )
    session.add_all([*territories.values(), *units.values()])
    session.flush()
    # The social counsellor of Saint-Avold also covers Forbach: a real-world routing rule.
    soc = session.execute(sa.select(Category).where(Category.code == "SOC")).scalar_one()
    session.add(RoutingRule(category=soc, unit=units["STAVOLD-social"], agency=agencies["FORBACH"]))
    session.commit()
    return _Organisation(
        territories={k: t.id for k, t in territories.items()},
        agencies={k: a.id for k, a in agencies.items()},
        units={k: u.id for k, u in units.items()},
    )


def _split(total: int, shares: Sequence[float], minimum: int) -> list[int]:
    """Whole numbers proportional to ``shares`` that add up to ``total``, none below minimum."""
    raw = [max(minimum, math.floor(total * s / sum(shares))) for s in shares]
    i = 0
    while sum(raw) < total:
        raw[i % len(raw)] += 1
        i += 1
    while sum(raw) > total:
        j = max(range(len(raw)), key=raw.__getitem__)
        raw[j] -= 1
    return raw


def _residence_sizes(rng: random.Random, total: int, required: int) -> list[int]:
    """Residence sizes (in dwellings) adding up to ``total``: many small, a few big estates."""
    sizes: list[int] = []
    remaining = total
    while remaining > 0:
        r = rng.random()
        size = (
            rng.randint(6, 30)
            if r < 0.3
            else rng.randint(30, 120)
            if r < 0.75
            else rng.randint(120, 400)
        )
        size = min(size, remaining)
        if remaining - size < 6 and sizes:
            size = remaining
        sizes.append(size)
        remaining -= size
    while len(sizes) < required and max(sizes) > 1:
        j = max(range(len(sizes)), key=sizes.__getitem__)
        half = sizes[j] // 2
        sizes[j] -= half
        sizes.append(half)
    return sizes


def _entrance_letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"{chr(ord('A') + i % 26)}{i // 26}"


def _load_stock(
    session: Session,
    total: int,
    rng: random.Random,
    today: date,
    now: datetime,
    org: _Organisation,
    echo: Callable[[str], Any],
) -> _Stock:
    stock = _Stock()
    per_agency = _split(total, [a.share for a in AGENCIES], minimum=len(AGENCIES[0].cities))
    names_used: Counter[tuple[str, str]] = Counter()
    pending: list[dict[str, Any]] = []
    pending_dwellings = 0
    for spec, dwellings in zip(AGENCIES, per_agency, strict=True):
        stock.residence_ids_by_agency[spec.code] = []
        sizes = _residence_sizes(rng, dwellings, required=len(spec.required))
        cities = [c for c, _ in spec.cities]
        weights = [w for _, w in spec.cities]
        for i, size in enumerate(sizes):
            city = spec.required[i] if i < len(spec.required) else rng.choices(cities, weights)[0]
            base = rng.choice(RESIDENCE_NAMES)
            if city.neighbourhoods and rng.random() < 0.5:
                base = f"{rng.choice(city.neighbourhoods)} – {base}"
            names_used[(city.name, base)] += 1
            count = names_used[(city.name, base)]
            name = base if count == 1 else f"{base} {_roman(count)}"
            pending.append(
                {
                    "agency": spec,
                    "city": city,
                    "name": name,
                    "size": size,
                    "code": f"{spec.prefix}-{i + 1:04d}",
                }
            )
            pending_dwellings += size
            if pending_dwellings >= DWELLINGS_PER_COMMIT:
                _insert_residences(session, pending, rng, today, now, org, stock)
                echo(f"  … {len(stock.dwellings):,} dwellings")
                pending, pending_dwellings = [], 0
        if pending:
            _insert_residences(session, pending, rng, today, now, org, stock)
            pending, pending_dwellings = [], 0
    return stock


def _roman(n: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in numerals:
        while n >= value:
            out, n = out + letters, n - value
    return out


def _insert_many(session: Session, model: type, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert returning the new ids in the order of ``rows``."""
    if not rows:
        return []
    stmt = sa.insert(model).returning(model.id, sort_by_parameter_order=True)  # type: ignore[attr-defined]
    return list(session.execute(stmt, rows).scalars())


def _insert_residences(
    session: Session,
    pending: list[dict[str, Any]],
    rng: random.Random,
    today: date,
    now: datetime,
    org: _Organisation,
    stock: _Stock,
) -> None:
    residence_ids = _insert_many(
        session,
        Residence,
        [
            {
                "code": p["code"],
                "name": p["name"],
                "agency_id": org.agencies[p["agency"].code],
                "department_code": p["city"].department,
                "city": p["city"].name,
            }
            for p in pending
        ],
    )
    buildings: list[dict[str, Any]] = []
    # ([(floor, door)], landline prefix of the city)
    building_plan: list[tuple[list[tuple[int, int]], str]] = []
    equipment: list[dict[str, Any]] = []
    for p, residence_id in zip(pending, residence_ids, strict=True):
        stock.residences += 1
        stock.departments.add(p["city"].department)
        stock.residence_ids_by_agency[p["agency"].code].append(residence_id)
        city: _City = p["city"]
        streets = rng.sample(city.streets, k=min(len(city.streets), 1 + (p["size"] > 150)))
        number = rng.randrange(1, 120, 2)
        size = p["size"]
        per_entrance = rng.randint(8, 16) if size < 40 else rng.randint(15, 45)
        n_entrances = max(1, min(40, round(size / per_entrance)))
        entrance_sizes = _split(size, [1.0] * n_entrances, minimum=1)
        for e, entrance_size in enumerate(entrance_sizes):
            street = streets[e * len(streets) // n_entrances]
            top = (
                rng.randint(4, 14)
                if entrance_size >= 30 and rng.random() < 0.6
                else rng.randint(1, 4)
            )
            per_floor = max(1, math.ceil(entrance_size / (top + 1)))
            doors = [(i // per_floor, i % per_floor + 1) for i in range(entrance_size)]
            top = doors[-1][0]
            code = f"{p['code']}-{_entrance_letter(e)}"
            building = Building(
                code=code,
                residence_id=residence_id,
                entrance=_entrance_letter(e),
                street=f"{number} {street}",
                postcode=city.postcode,
                city=city.name,
            )
            building.refresh_search_address()
            buildings.append(
                {
                    "code": code,
                    "residence_id": residence_id,
                    "entrance": building.entrance,
                    "street": building.street,
                    "postcode": building.postcode,
                    "city": building.city,
                    "search_address": building.search_address,
                }
            )
            building_plan.append((doors, city.landline_prefix))
            number += 2
            if top >= ELEVATOR_FROM_TOP_FLOOR:
                for k in range(1 + (entrance_size > 60)):
                    equipment.append(
                        {
                            "code": f"{code}-ASC{k + 1}",
                            "kind": EquipmentKind.ELEVATOR,
                            "label": f"Ascenseur {k + 1} entrée {building.entrance}",
                            "_b": len(buildings) - 1,
                            "_r": residence_id,
                        }
                    )
            if entrance_size >= 6 and rng.random() < 0.9:
                equipment.append(
                    {
                        "code": f"{code}-INT",
                        "kind": EquipmentKind.ENTRY_PHONE,
                        "label": f"Interphone entrée {building.entrance}",
                        "_b": len(buildings) - 1,
                        "_r": residence_id,
                    }
                )
        first = len(buildings) - n_entrances
        if size >= 20 and rng.random() < 0.45:
            equipment.append(
                {
                    "code": f"{p['code']}-CHF",
                    "kind": EquipmentKind.BOILER_ROOM,
                    "label": "Chaufferie collective",
                    "_b": first,
                    "_r": residence_id,
                }
            )
        if size >= 30 and rng.random() < 0.25:
            equipment.append(
                {
                    "code": f"{p['code']}-PORTAIL",
                    "kind": EquipmentKind.GATE,
                    "label": "Barrière du parking",
                    "_b": first,
                    "_r": residence_id,
                }
            )

    building_ids = _insert_many(session, Building, buildings)
    stock.buildings += len(building_ids)
    for row in equipment:
        row["building_id"] = building_ids[row.pop("_b")]
        residence_id = row.pop("_r")
        kind = str(row["kind"])
        stock.equipment[kind] += 1
        stock.residences_with.setdefault(kind, set()).add(residence_id)
    equipment_ids = _insert_many(session, Equipment, equipment)
    for row, equipment_id in zip(equipment, equipment_ids, strict=True):
        stock.equipment_by_kind.setdefault(str(row["kind"]), []).append(
            (equipment_id, row["building_id"])
        )

    dwelling_rows: list[dict[str, Any]] = []
    dwelling_buildings: list[int] = []
    dwelling_prefixes: list[str] = []
    for (doors, prefix), building_id, row in zip(
        building_plan, building_ids, buildings, strict=True
    ):
        for floor, door in doors:
            typology = rng.choices(("T1", "T2", "T3", "T4", "T5"), (8, 22, 38, 24, 8))[0]
            dwelling_rows.append(
                {
                    "code": f"{row['code']}-{floor:02d}{door:02d}",
                    "building_id": building_id,
                    "floor": floor,
                    "door": f"{floor}{door:02d}" if floor else f"{door:02d}",
                    "typology": typology,
                }
            )
            dwelling_buildings.append(building_id)
            dwelling_prefixes.append(prefix)
    dwelling_ids = _insert_many(session, Dwelling, dwelling_rows)
    infos = [_DwellingInfo(d, b, []) for d, b in zip(dwelling_ids, dwelling_buildings, strict=True)]
    for info in infos:
        stock.building_dwellings.setdefault(info.building_id, []).append(info.id)
        stock.dwelling_by_id[info.id] = info
    _insert_tenants(session, infos, dwelling_prefixes, rng, today, now, stock)
    stock.dwellings.extend(infos)
    session.commit()
    session.expunge_all()


def _insert_tenants(
    session: Session,
    infos: list[_DwellingInfo],
    prefixes: list[str],
    rng: random.Random,
    today: date,
    now: datetime,
    stock: _Stock,
) -> None:
    tenants: list[dict[str, Any]] = []
    phones: list[tuple[int, str, PhoneKind]] = []  # (tenant row index, number, kind)
    leases: list[tuple[int, int, date, date | None]] = []  # (tenant row, dwelling idx, start, end)

    def new_tenant(city_prefix: str) -> int:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        tenant = Tenant(first_name=first, last_name=last)
        tenant.refresh_search_name()
        index = len(tenants) + stock.tenants
        email = None
        if rng.random() < 0.8:
            local = tenant.search_name.split()
            email = (
                f"{'.'.join(reversed(local))}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS)}"
            ).replace(" ", "")
        r = rng.random()
        channel = (
            Channel.EMAIL if email and r < 0.2 else Channel.LETTER if r > 0.92 else Channel.SMS
        )
        tenants.append(
            {
                "external_ref": f"LOC{index + 1:07d}",
                "first_name": first,
                "last_name": last,
                "email": email,
                "preferred_channel": channel,
                "search_name": tenant.search_name,
                "created_at": now,
            }
        )
        row = len(tenants) - 1
        numbers = {_mobile(rng)}
        if rng.random() < 0.35:
            numbers.add(_landline(rng, city_prefix) if rng.random() < 0.6 else _mobile(rng))
        for raw in sorted(numbers):
            number = normalise_phone(raw)
            if number:
                mobile = number.startswith(("+336", "+337"))
                kind = PhoneKind.MOBILE if mobile else PhoneKind.LANDLINE
                phones.append((row, number, kind))
        return row

    for idx, _info in enumerate(infos):
        # Most tenants have lived there for years; about one in ten moved in this year, and a
        # vacant dwelling usually has a tenant who left recently.
        occupied = rng.random() < OCCUPANCY
        if occupied:
            years = min(35.0, rng.expovariate(1 / 8))
            start = today - timedelta(days=int(years * 365) + 1)
            if rng.random() < 0.12:
                start = today - timedelta(days=rng.randint(20, 360))
                previous_start = start - timedelta(days=rng.randint(700, 6000))
                leases.append(
                    (new_tenant(prefixes[idx]), idx, previous_start, start - timedelta(days=1))
                )
            leases.append((new_tenant(prefixes[idx]), idx, start, None))
        else:
            end = today - timedelta(days=rng.randint(5, 180))
            start = end - timedelta(days=rng.randint(400, 5000))
            leases.append((new_tenant(prefixes[idx]), idx, start, end))

    if stock.tenants == 0:
        # The first batch's first current tenant answers to the README's example number
        # (instead of their drawn mobile), whatever the seed and the size.
        readme_row = next(row for row, _idx, _start, end in leases if end is None)
        phones = [
            (row, number, kind)
            for row, number, kind in phones
            if row != readme_row or kind != PhoneKind.MOBILE
        ]
        phones.append((readme_row, normalise_phone(README_PHONE) or "", PhoneKind.MOBILE))

    tenant_ids = _insert_many(session, Tenant, tenants)
    session.execute(
        sa.insert(TenantPhone),
        [
            {"tenant_id": tenant_ids[row], "number": number, "kind": kind}
            for row, number, kind in phones
        ],
    )
    lease_rows = []
    for row, idx, start, end in leases:
        tenant_id = tenant_ids[row]
        lease_rows.append(
            {
                "reference": f"BAIL-{stock.tenants + row + 1:07d}",
                "tenant_id": tenant_id,
                "dwelling_id": infos[idx].id,
                "start_date": start,
                "end_date": end,
            }
        )
        infos[idx].leases.append((tenant_id, start, end))
        stock.current_leases += end is None
    session.execute(sa.insert(Lease), lease_rows)
    stock.tenants += len(tenants)
    stock.phones += len(phones)


def _mobile(rng: random.Random) -> str:
    digits = f"{rng.choice('67')}{rng.randrange(10**8):08d}"
    if digits == "612345678":  # the README's number belongs to one tenant only
        digits = "612345679"
    # The same number as a tenant would give it: spaced, dotted or glued.
    pairs = [digits[i : i + 2] for i in range(1, 9, 2)]
    style = rng.random()
    if style < 0.6:
        return f"0{digits[0]} {' '.join(pairs)}"
    if style < 0.8:
        return f"0{digits[0]}.{'.'.join(pairs)}"
    if style < 0.95:
        return f"0{digits}"
    return f"+33 {digits[0]} {' '.join(pairs)}"


def _landline(rng: random.Random, prefix: str) -> str:
    return f"{prefix} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"


def _categories_for(session: Session, target: str) -> list[int]:
    return list(
        session.execute(
            sa.select(Category.id).where(
                Category.default_route_kind == "contract", Category.default_route_target == target
            )
        ).scalars()
    )


def _load_contracts(session: Session, org: _Organisation, stock: _Stock, today: date) -> int:
    contractors = {
        code: Contractor(code=code, name=name, email=email, phone=normalise_phone(phone))
        for code, (name, email, phone) in CONTRACTORS.items()
    }
    session.add_all(contractors.values())
    session.flush()

    def by_agency(*codes: str) -> set[int]:
        return {r for code in codes for r in stock.residence_ids_by_agency.get(code, [])}

    moselle = {a.code for a in AGENCIES if a.territory == "MOS"}
    plans = (
        (
            "MS-2025-01",
            "MULTI",
            "multiservice",
            by_agency(*MULTISERVICE_AGENCIES),
            _categories_for(session, "multiservice"),
            # A leak or a power cut is made safe within hours, a dripping tap within days.
            {"urgent": (1, 4), "high": (2, 24), "normal": (4, 72), "low": (8, 168)},
        ),
        (
            "ASC-2024-03",
            "ASCEST",
            "elevator",
            stock.residences_with.get("elevator", set()),
            _categories_for(session, "elevator"),
            # Someone trapped in a cabin: on site within the hour.
            {"urgent": (1, 2), "high": (1, 4), "normal": (1, 24), "low": (4, 72)},
        ),
        (
            "CHF-2023-07",
            "THERMIQUE",
            "heating",
            by_agency(*moselle),
            _categories_for(session, "heating"),
            {"urgent": (1, 4), "high": (2, 12), "normal": (2, 24), "low": (8, 72)},
        ),
        (
            "NET-2025-02",
            "NETHAB",
            "cleaning",
            by_agency("METZ", "NANCY"),
            _categories_for(session, "cleaning"),
            {"urgent": (2, 8), "high": (8, 48), "normal": (24, 120), "low": (24, 240)},
        ),
        (
            "3D-2026-01",
            "HYGIENE3D",
            "pest",
            by_agency(*(a.code for a in AGENCIES)),
            _categories_for(session, "pest"),
            {"urgent": (2, 24), "high": (8, 72), "normal": (24, 240), "low": (48, 480)},
        ),
    )
    count = 0
    for reference, contractor, kind, residences, categories, deadlines in plans:
        if not residences or not categories:
            continue
        contract = Contract(
            reference=reference,
            contractor=contractors[contractor],
            kind=kind,
            starts_on=date(today.year - 2, 1, 1),
            ends_on=date(today.year + 2, 12, 31),
        )
        contract.set_deadlines(**deadlines)
        session.add(contract)
        session.flush()
        session.execute(
            contract_residences.insert(),
            [{"contract_id": contract.id, "residence_id": r} for r in sorted(residences)],
        )
        session.execute(
            contract_categories.insert(),
            [{"contract_id": contract.id, "category_id": c} for c in categories],
        )
        count += 1
    return count


@dataclass
class _Users:
    agents: list[int]
    by_unit: dict[int, int]  # unit id -> a user of that unit
    count: int


def _load_users(session: Session, org: _Organisation) -> tuple[_Users, dict[str, str]]:
    def user(email: str, name: str, role: Role, unit: str | None = None) -> User:
        u = User(email=email, name=name, role=role, unit_id=org.units[unit] if unit else None)
        session.add(u)
        return u

    agents = [
        user(f"{login}@crc.example.org", name, Role.AGENT)
        for login, name in (
            ("camille.rousseau", "Camille Rousseau"),
            ("yanis.haddad", "Yanis Haddad"),
            ("sophie.weber", "Sophie Weber"),
            ("lucie.thiebaut", "Lucie Thiébaut"),
            ("mehdi.benali", "Mehdi Benali"),
        )
    ]
    unit_users: dict[str, User] = {}
    people = iter(
        [f"{f} {last}" for f, last in zip(FIRST_NAMES * 2, reversed(LAST_NAMES * 2), strict=False)]
    )
    for key in org.units:
        unit_users[key] = user(
            f"{key.lower().replace('_', '-')}@bailleur.example.org", next(people), Role.UNIT, key
        )
    manager = user("direction.qualite@bailleur.example.org", "Hélène Marchal", Role.MANAGER)
    admin = user("admin@bailleur.example.org", "Administrateur GRC", Role.ADMIN)
    session.flush()
    tokens = {}
    for role, holder in (
        ("agent", agents[0]),
        ("unit", unit_users["METZ-technique"]),
        ("manager", manager),
        ("admin", admin),
    ):
        _, tokens[role] = issue_token(holder, "demo")
    session.flush()
    users = _Users(
        agents=[a.id for a in agents],
        by_unit={org.units[k]: u.id for k, u in unit_users.items()},
        count=len(agents) + len(unit_users) + 2,
    )
    return users, tokens


def _write_tokens(tokens: dict[str, str]) -> Path:
    path = Path(current_app.instance_path) / TOKENS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    # The file holds bearer secrets: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(tokens, out, indent=2)
        out.write("\n")
    return path


# --- Claims --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CategoryInfo:
    code: str
    domain: str
    location: LocationKind
    equipment_kind: str | None
    urgent: bool
    fcr_possible: bool


@dataclass(frozen=True)
class _PlannedClaim:
    at: datetime
    category: _CategoryInfo
    channel: IntakeChannel
    command: NewClaim


def _catalogue(session: Session) -> list[_CategoryInfo]:
    rows = (
        session.execute(
            sa.select(Category)
            .where(Category.active, Category.location_kind.is_not(None))
            .order_by(Category.code)
        )
        .scalars()
        .all()
    )
    return [
        _CategoryInfo(
            code=c.code,
            domain=c.parent.code if c.parent else c.code,
            location=c.location_kind,
            equipment_kind=c.equipment_kind,
            urgent=c.sla_policy is not None and c.sla_policy.clock == Clock.CALENDAR,
            fcr_possible=c.fcr_possible,
        )
        for c in rows
        if c.location_kind is not None
    ]


def _category_weight(info: _CategoryInfo, month: int) -> float:
    weight = float(CATEGORY_WEIGHTS.get(info.code, 1.0))
    season = SEASONS.get(info.code) or SEASONS.get(info.domain)
    return weight * season(month) if season else weight


def _channel(rng: random.Random, info: _CategoryInfo) -> IntakeChannel:
    if info.urgent:
        options = {"phone": 85, "app": 8, "web": 5, "desk": 2}
    elif info.domain in ("LOC", "SOC"):
        options = {"phone": 45, "web": 25, "app": 10, "email": 15, "letter": 3, "desk": 2}
    else:
        options = {"phone": 55, "web": 15, "app": 17, "email": 8, "desk": 4, "letter": 1}
    return IntakeChannel(rng.choices(list(options), list(options.values()))[0])


def _local_moment(
    rng: random.Random, day: date, channel: IntakeChannel, urgent: bool, tz: ZoneInfo
) -> datetime:
    online = channel in (IntakeChannel.WEB, IntakeChannel.APP)
    if online or (urgent and rng.random() < 0.3):
        # Portals and the on-call line are open day and night, busiest in the evening.
        hour = rng.choices(
            range(24),
            (1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 7, 8, 9, 9, 9, 10, 11, 11, 10, 8, 5, 3),
        )[0]
        minute = rng.randrange(60)
    elif rng.random() < 0.6:
        # The call centre's two daily peaks.
        start = rng.choice((9 * 60, 14 * 60))
        minute_of_day = start + rng.randrange(150)
        hour, minute = divmod(minute_of_day, 60)
    else:
        hour, minute = divmod(8 * 60 + 30 + rng.randrange(9 * 60), 60)
    return datetime(day.year, day.month, day.day, hour, minute, rng.randrange(60), tzinfo=tz)


def _plan_claims(
    rng: random.Random,
    count: int,
    anchor: datetime,
    tz: ZoneInfo,
    catalogue: list[_CategoryInfo],
    stock: _Stock,
    agents: list[int],
) -> list[tuple[_PlannedClaim, int | None]]:
    anchor_day = anchor.astimezone(tz).date()
    days = [anchor_day - timedelta(days=d) for d in range(1, 366)]
    day_weights = [
        (1.0, 1.05, 0.95, 0.95, 0.9, 0.3, 0.15)[d.weekday()] * (1.15 if d.month in _WINTER else 1.0)
        for d in days
    ]
    weights_by_month = {m: [_category_weight(c, m) for c in catalogue] for m in range(1, 13)}
    occupied = [d for d in stock.dwellings if d.leases]
    planned: list[tuple[_PlannedClaim, int | None]] = []
    while len(planned) < count:
        day = rng.choices(days, day_weights)[0]
        info = rng.choices(catalogue, weights_by_month[day.month])[0]
        if info.equipment_kind and not stock.equipment_by_kind.get(info.equipment_kind):
            continue
        channel = _channel(rng, info)
        if (
            day.weekday() >= 5
            and not info.urgent
            and channel not in (IntakeChannel.WEB, IntakeChannel.APP)
        ):
            channel = rng.choice((IntakeChannel.WEB, IntakeChannel.APP))
        at = _local_moment(rng, day, channel, info.urgent, tz).astimezone(UTC)
        location: dict[str, int | None] = {}
        tenant_id: int | None = None
        if info.location == LocationKind.DWELLING:
            dwelling = rng.choice(occupied)
            if dwelling.tenant_on(day) is None:
                continue  # nobody lived there that day
            location["dwelling_id"] = dwelling.id  # the product finds the occupant itself
        elif info.location == LocationKind.EQUIPMENT:
            equipment_id, building_id = rng.choice(
                stock.equipment_by_kind[info.equipment_kind or ""]
            )
            location["equipment_id"] = equipment_id
            tenant_id = _caller(rng, stock, building_id, day)
        else:
            dwelling = rng.choice(occupied)
            tenant_id = dwelling.tenant_on(day)
            if rng.random() < 0.6 and tenant_id is not None:
                location["dwelling_id"] = dwelling.id  # a caller names their own dwelling
            else:
                location["building_id"] = dwelling.building_id
        # Only what can be answered on the phone is resolved during the call (the catalogue's
        # fcr_possible); a leak or a broken lift always needs someone on site.
        fcr = (
            info.fcr_possible
            and channel in (IntakeChannel.PHONE, IntakeChannel.DESK)
            and rng.random() < 0.9
        )
        resolution = None
        if fcr:
            resolution = FCR_ANSWERS.get(info.code) or rng.choice(FCR_GENERIC)
        text = DESCRIPTIONS.get(info.code) or (f"Réclamation : {info.code}.",)
        command = NewClaim(
            category=info.code,
            channel=channel,
            description=rng.choice(text),
            tenant_id=tenant_id,
            resolve_now=fcr,
            resolution=resolution,
            **location,
        )
        actor = None if channel in (IntakeChannel.WEB, IntakeChannel.APP) else rng.choice(agents)
        planned.append((_PlannedClaim(at, info, channel, command), actor))
    planned.sort(key=lambda p: p[0].at)
    return planned


def _caller(rng: random.Random, stock: _Stock, building_id: int, day: date) -> int | None:
    if rng.random() < 0.4:
        return None  # reported by the caretaker or a passer-by
    dwelling_id = rng.choice(stock.building_dwellings[building_id])
    return stock.dwelling_by_id[dwelling_id].tenant_on(day)


def _load_claims(
    session: Session,
    count: int,
    rng: random.Random,
    anchor: datetime,
    tz: ZoneInfo,
    stock: _Stock,
    users: _Users,
    echo: Callable[[str], Any],
) -> list[str]:
    if count <= 0:
        return ["Claims: none requested."]
    catalogue = _catalogue(session)
    planned = _plan_claims(rng, count, anchor, tz, catalogue, stock, users.agents)
    statuses: Counter[str] = Counter()
    phone_total = phone_fcr = to_contractor = messages = 0
    lifecycle = _Lifecycle(session, rng, anchor, tz, users)
    for i, (plan, actor_id) in enumerate(planned, start=1):
        actor = session.get(User, actor_id) if actor_id else None
        claim = create_claim(session, plan.command, actor, now=plan.at)
        lifecycle.advance(claim, plan)
        statuses[str(claim.status)] += 1
        to_contractor += claim.route_kind == RouteKind.CONTRACTOR
        if plan.channel == IntakeChannel.PHONE:
            phone_total += 1
            phone_fcr += claim.first_contact_resolution
        if i % CLAIMS_PER_COMMIT == 0 or i == len(planned):
            messages += _settle_history_messages(session)
            session.commit()
            session.expunge_all()
            echo(f"  … {i:,} / {len(planned):,} claims")
    events = session.execute(sa.select(sa.func.count(ClaimEvent.id))).scalar_one()
    order = [s.value for s in ClaimStatus]
    return [
        f"Claims: {len(planned):,} over 12 months, {events:,} timeline events; "
        + ", ".join(f"{s} {statuses[s]:,}" for s in order if statuses[s])
        + ".",
        f"Routing: {to_contractor / len(planned):.0%} to contractors under contract; "
        f"first-contact resolution {phone_fcr / max(1, phone_total):.0%} of phone claims.",
        f"Messages: {messages:,} tenant and staff notifications of that history, recorded as "
        f"sent by the '{DEMO_PROVIDER}' provider: none is handed to a real one.",
    ]


def _settle_history_messages(session: Session) -> int:
    """Record the notifications the operations queued for the backfilled history as sent.

    They belong to the past the demo invents: left pending, the outbox would text and e-mail
    them now (the phone numbers are random, real-looking ones). Done before the batch's
    commit, so the hand-over after it finds them final and sends nothing.
    """
    result = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == DeliveryStatus.PENDING)
        .values(
            status=DeliveryStatus.SENT,
            provider=DEMO_PROVIDER,
            provider_id=sa.literal("demo-") + sa.cast(OutboxMessage.id, sa.String),
            attempts=1,
            handed_at=OutboxMessage.available_at,
            sent_at=OutboxMessage.available_at,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


class _Lifecycle:
    """Moves a freshly created claim along its life as real staff would have, up to today."""

    def __init__(
        self, session: Session, rng: random.Random, anchor: datetime, tz: ZoneInfo, users: _Users
    ) -> None:
        self.session, self.rng, self.anchor, self.tz, self.users = session, rng, anchor, tz, users

    def _unit_user(self, claim: Claim) -> User:
        return self.session.get(User, self.users.by_unit[claim.unit_id])  # type: ignore[return-value]

    def _agent(self) -> User:
        return self.session.get(User, self.rng.choice(self.users.agents))  # type: ignore[return-value]

    def _working(self, moment: datetime) -> datetime:
        """The same moment, or the next working-hours one: staff act during office hours."""
        local = moment.astimezone(self.tz)
        for _ in range(10):
            opens = local.replace(hour=8, minute=30, second=0, microsecond=0)
            closes = local.replace(hour=17, minute=30, second=0, microsecond=0)
            if local.weekday() < 5 and opens <= local < closes:
                return local.astimezone(UTC)
            if local.weekday() < 5 and local < opens:
                local = opens + timedelta(minutes=self.rng.randrange(90))
                continue
            following = (local + timedelta(days=1)).replace(hour=0, minute=0)
            local = following.replace(hour=8, minute=30) + timedelta(minutes=self.rng.randrange(90))
        return local.astimezone(UTC)

    def _act(
        self,
        claim: Claim,
        action: Action,
        at: datetime,
        actor: User,
        comment: str | None = None,
        unit_id: int | None = None,
    ) -> bool:
        if at >= self.anchor:
            return False
        if claim.status == ClaimStatus.WAITING_TENANT:
            # The question left days ago in the story the demo tells, not when the batch is
            # settled: record it sent before the claim moves on, or it would be withdrawn.
            _settle_history_messages(self.session)
        _transition(self.session, claim, TransitionRequest(action, comment, unit_id), actor, now=at)
        return True

    def advance(self, claim: Claim, plan: _PlannedClaim) -> None:
        rng, created = self.rng, plan.at
        if claim.status == ClaimStatus.RESOLVED:  # first-contact resolution
            self._close(claim, created)
            return
        urgent = claim.sla_clock == Clock.CALENDAR
        when = (lambda t: t) if urgent else self._working
        response_span = claim.response_due - created
        resolution_span = claim.resolution_due - created

        r = rng.random()
        if r < 0.03:
            self._act(
                claim,
                Action.CANCEL,
                created + timedelta(minutes=rng.randint(20, 2880)),
                self._agent(),
                rng.choice(CANCEL_REASONS),
            )
            return
        t = created
        if r < 0.06 and claim.route_kind == RouteKind.UNIT:
            other = self._other_unit(claim)
            t = when(created + timedelta(minutes=rng.randint(15, 600)))
            if other is None or not self._act(
                claim,
                Action.ASSIGN,
                t,
                self._unit_user(claim),
                "Ne relève pas de notre service.",
                other,
            ):
                return

        t = max(
            t + timedelta(minutes=1),
            when(created + response_span * rng.lognormvariate(math.log(0.45), 0.7)),
        )
        if not self._act(claim, Action.START, t, self._unit_user(claim)):
            return
        if claim.contractor is not None:
            visit = self._working(t + timedelta(hours=rng.randint(2, 30))).astimezone(self.tz)
            if t < self.anchor:
                add_comment(
                    self.session,
                    claim,
                    f"{claim.contractor.name} interviendra le {visit:%d/%m} vers {visit:%H}h.",
                    Visibility.TENANT,
                    self._unit_user(claim),
                    now=t,
                )

        resolve_at = created + resolution_span * rng.lognormvariate(math.log(0.55), 0.6)
        if rng.random() < 0.07:
            paused = t + timedelta(minutes=rng.randint(30, 2000))
            if not self._act(
                claim,
                Action.WAIT_TENANT,
                when(paused),
                self._unit_user(claim),
                "Logement inaccessible : en attente des disponibilités du locataire.",
            ):
                return
            pause = timedelta(days=rng.uniform(1, 14))
            back = when(paused + pause)
            if back >= self.anchor and back - paused > timedelta(days=45):
                self._act(
                    claim,
                    Action.CANCEL,
                    when(paused + timedelta(days=45)),
                    self._unit_user(claim),
                    "Sans nouvelles du locataire depuis 45 jours.",
                )
                return
            if not self._act(
                claim,
                Action.RESUME,
                back,
                self._unit_user(claim),
                "Le locataire a rappelé pour fixer un rendez-vous.",
            ):
                return
            resolve_at = max(resolve_at, back) + pause
            t = back
        resolve_at = max(t + timedelta(minutes=5), when(resolve_at))
        text = RESOLUTIONS.get(plan.category.domain, ("Traité.",))
        if not self._act(
            claim, Action.RESOLVE, resolve_at, self._unit_user(claim), rng.choice(text)
        ):
            return
        if rng.random() < 0.03:
            reopened = resolve_at + timedelta(days=rng.uniform(1, 6))
            if not self._act(
                claim,
                Action.REOPEN,
                reopened,
                self._agent(),
                "Le locataire signale que le problème persiste.",
            ):
                return
            again = self._working(reopened + timedelta(days=rng.uniform(0.5, 4)))
            if not self._act(
                claim, Action.RESOLVE, again, self._unit_user(claim), rng.choice(text)
            ):
                return
            resolve_at = again
        self._close(claim, resolve_at)

    def _close(self, claim: Claim, resolved_at: datetime) -> None:
        # Closed once the satisfaction survey window is over; a few stay resolved a while.
        if self.rng.random() < 0.95:
            at = self._working(resolved_at + timedelta(days=self.rng.uniform(8, 21)))
            self._act(claim, Action.CLOSE, at, self._unit_user(claim))

    def _other_unit(self, claim: Claim) -> int | None:
        unit = claim.unit
        wanted = "proximite" if unit.kind != "proximite" else "technique"
        return self.session.execute(
            sa.select(TreatmentUnit.id).where(
                TreatmentUnit.kind == wanted, TreatmentUnit.agency_id == claim.agency_id
            )
        ).scalar_one_or_none()
