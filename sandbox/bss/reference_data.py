"""The BSS's reference data: the catalogue of each market, its stores, and the service problems.

Prices in the market's currency (whole units here, stored as hundredths); 1 GB = 1024 MB.
"""

from datetime import datetime, timedelta, timezone

from .common import market_zone
from .models import Offering, ServiceProblem, Site

PRE, POST, HOME = "prepaid", "postpaid", "home"


def _data(mb):
    return {"usageType": "data", "amount": mb, "units": "MB"}


def _voice(minutes):
    return {"usageType": "voice", "amount": minutes, "units": "min"}


def _sms(count):
    return {"usageType": "sms", "amount": count, "units": "SMS"}


# (id, category, kind, name, description, price, validity days, payment types, allowances)
BJ_OFFERINGS = [
    (
        "BJ-PLAN-PREPAID",
        "plan",
        "mobile",
        "Prépayé Classique",
        "Forfait prépayé : appels 50 F/min, SMS 25 F",
        0,
        None,
        [PRE],
        [],
    ),
    (
        "BJ-PASS-JOUR-150MO",
        "pack",
        "data",
        "Pass Jour 150 Mo",
        "150 Mo d'internet valables 24 heures",
        100,
        1,
        [PRE, POST],
        [_data(150)],
    ),
    (
        "BJ-PASS-1GO",
        "pack",
        "data",
        "Pass Internet 1 Go",
        "1 Go d'internet valable 7 jours",
        500,
        7,
        [PRE, POST],
        [_data(1024)],
    ),
    (
        "BJ-PASS-2GO",
        "pack",
        "data",
        "Pass Internet 2 Go",
        "2 Go d'internet valables 7 jours",
        1000,
        7,
        [PRE, POST],
        [_data(2048)],
    ),
    (
        "BJ-PASS-5GO",
        "pack",
        "data",
        "Pass Internet 5 Go",
        "5 Go d'internet valables 30 jours",
        2500,
        30,
        [PRE, POST],
        [_data(5120)],
    ),
    (
        "BJ-PASS-APPELS-30MIN",
        "pack",
        "voice",
        "Pass Appels 30 min",
        "30 minutes d'appels tous réseaux, 7 jours",
        500,
        7,
        [PRE, POST],
        [_voice(30)],
    ),
    (
        "BJ-PASS-MIXTE",
        "pack",
        "combo",
        "Pass Mixte 1 Go + 60 min",
        "1 Go, 60 minutes et 50 SMS valables 30 jours",
        1500,
        30,
        [PRE, POST],
        [_data(1024), _voice(60), _sms(50)],
    ),
    (
        "BJ-PASS-SMS-100",
        "pack",
        "sms",
        "Pass 100 SMS",
        "100 SMS vers tous les réseaux, 7 jours",
        200,
        7,
        [PRE, POST],
        [_sms(100)],
    ),
    (
        "BJ-ADDON-ROAMING",
        "addon",
        "roaming",
        "Roaming Afrique de l'Ouest",
        "Appels et data au Togo, Nigeria, Niger, Burkina Faso et Côte d'Ivoire",
        2500,
        None,
        [PRE, POST],
        [],
    ),
    (
        "BJ-ADDON-MUSIQUE",
        "addon",
        "music",
        "Musique Illimitée",
        "Streaming musical sans consommer votre data",
        1000,
        None,
        [PRE, POST],
        [],
    ),
    (
        "BJ-ADDON-MELODIE",
        "addon",
        "callerTune",
        "Ma Mélodie",
        "Vos correspondants entendent votre chanson",
        300,
        None,
        [PRE, POST],
        [],
    ),
    (
        "BJ-ADDON-TV",
        "addon",
        "tv",
        "TV Mobile",
        "Chaînes TV et vidéos en direct sur votre mobile",
        1500,
        None,
        [PRE, POST],
        [],
    ),
    (
        "BJ-ADDON-SOCIAL",
        "addon",
        "social",
        "Réseaux Sociaux Illimités",
        "WhatsApp et Facebook sans limite",
        1000,
        None,
        [PRE, POST],
        [],
    ),
    (
        "BJ-LOAN-CREDIT-200",
        "loan",
        "airtime",
        "Avance Crédit 200 F",
        "200 F de crédit tout de suite, 10 % de frais",
        200,
        None,
        [PRE],
        [],
    ),
    (
        "BJ-LOAN-CREDIT-500",
        "loan",
        "airtime",
        "Avance Crédit 500 F",
        "500 F de crédit tout de suite, 10 % de frais",
        500,
        None,
        [PRE],
        [],
    ),
    (
        "BJ-LOAN-CREDIT-1000",
        "loan",
        "airtime",
        "Avance Crédit 1 000 F",
        "1 000 F de crédit tout de suite, 10 % de frais",
        1000,
        None,
        [PRE],
        [],
    ),
    (
        "BJ-LOAN-DATA-100MO",
        "loan",
        "data",
        "Avance Internet 100 Mo",
        "100 Mo tout de suite (150 F), 10 % de frais",
        150,
        7,
        [PRE],
        [_data(100)],
    ),
    (
        "BJ-LOAN-DATA-500MO",
        "loan",
        "data",
        "Avance Internet 500 Mo",
        "500 Mo tout de suite (300 F), 10 % de frais",
        300,
        7,
        [PRE],
        [_data(500)],
    ),
]

GT_OFFERINGS = [
    (
        "GT-PLAN-PREPAGO",
        "plan",
        "mobile",
        "Prepago Clásico",
        "Plan prepago: llamadas Q0.60/min, SMS Q0.30",
        0,
        None,
        [PRE],
        [],
    ),
    (
        "GT-PLAN-TIGO-PLUS-150",
        "plan",
        "mobile",
        "Tigo Plus 150",
        "15 GB, llamadas y SMS ilimitados",
        150,
        30,
        [POST],
        [_data(15360)],
    ),
    (
        "GT-PLAN-HOGAR-100",
        "plan",
        "homeInternet",
        "Internet Hogar 100 Mbps",
        "Internet fijo 100 Mbps sin límite",
        299,
        30,
        [HOME],
        [],
    ),
    (
        "GT-PAQ-DIA-300MB",
        "pack",
        "data",
        "Paquete Día 300 MB",
        "300 MB de internet por 24 horas",
        3,
        1,
        [PRE, POST],
        [_data(300)],
    ),
    (
        "GT-PAQ-1GB-3D",
        "pack",
        "data",
        "Paquete 1 GB 3 días",
        "1 GB de internet por 3 días",
        10,
        3,
        [PRE, POST],
        [_data(1024)],
    ),
    (
        "GT-PAQ-3GB-7D",
        "pack",
        "data",
        "Paquete 3 GB 7 días",
        "3 GB de internet por 7 días",
        25,
        7,
        [PRE, POST],
        [_data(3072)],
    ),
    (
        "GT-PAQ-5GB-15D",
        "pack",
        "data",
        "Paquete 5 GB 15 días",
        "5 GB de internet por 15 días",
        40,
        15,
        [PRE, POST],
        [_data(5120)],
    ),
    (
        "GT-PAQ-10GB-30D",
        "pack",
        "data",
        "Paquete 10 GB 30 días",
        "10 GB de internet por 30 días",
        75,
        30,
        [PRE, POST],
        [_data(10240)],
    ),
    (
        "GT-PAQ-100MIN-7D",
        "pack",
        "voice",
        "Paquete 100 minutos 7 días",
        "100 minutos a todo destino por 7 días",
        15,
        7,
        [PRE, POST],
        [_voice(100)],
    ),
    (
        "GT-COMBO-5GB-200MIN",
        "pack",
        "combo",
        "Combo 5 GB + 200 min",
        "5 GB, 200 minutos y 100 SMS por 15 días",
        35,
        15,
        [PRE, POST],
        [_data(5120), _voice(200), _sms(100)],
    ),
    (
        "GT-PAQ-200SMS-7D",
        "pack",
        "sms",
        "Paquete 200 SMS 7 días",
        "200 SMS a todo destino por 7 días",
        5,
        7,
        [PRE, POST],
        [_sms(200)],
    ),
    (
        "GT-ADDON-ROAMING",
        "addon",
        "roaming",
        "Roaming Américas",
        "Llamadas y datos en EE. UU., México y Centroamérica",
        99,
        None,
        [PRE, POST],
        [],
    ),
    (
        "GT-ADDON-MUSICA",
        "addon",
        "music",
        "Música sin Límites",
        "Streaming de música sin gastar tus datos",
        25,
        None,
        [PRE, POST],
        [],
    ),
    (
        "GT-ADDON-TONO",
        "addon",
        "callerTune",
        "Tono de Espera",
        "Tus contactos escuchan tu canción favorita",
        10,
        None,
        [PRE, POST],
        [],
    ),
    ("GT-ADDON-TV", "addon", "tv", "TV Móvil", "Canales en vivo y video en tu celular", 45, None, [PRE, POST], []),
    (
        "GT-ADDON-REDES",
        "addon",
        "social",
        "Redes Sociales Ilimitadas",
        "WhatsApp, Facebook e Instagram sin límite",
        20,
        None,
        [PRE, POST],
        [],
    ),
    (
        "GT-LOAN-SALDO-5",
        "loan",
        "airtime",
        "Préstamo de Saldo Q5",
        "Q5 de saldo al instante, 10 % de comisión",
        5,
        None,
        [PRE],
        [],
    ),
    (
        "GT-LOAN-SALDO-10",
        "loan",
        "airtime",
        "Préstamo de Saldo Q10",
        "Q10 de saldo al instante, 10 % de comisión",
        10,
        None,
        [PRE],
        [],
    ),
    (
        "GT-LOAN-SALDO-20",
        "loan",
        "airtime",
        "Préstamo de Saldo Q20",
        "Q20 de saldo al instante, 10 % de comisión",
        20,
        None,
        [PRE],
        [],
    ),
    (
        "GT-LOAN-DATOS-500MB",
        "loan",
        "data",
        "Préstamo de Datos 500 MB",
        "500 MB al instante (Q5), 10 % de comisión",
        5,
        7,
        [PRE],
        [_data(500)],
    ),
    (
        "GT-LOAN-DATOS-1GB",
        "loan",
        "data",
        "Préstamo de Datos 1 GB",
        "1 GB al instante (Q10), 10 % de comisión",
        10,
        7,
        [PRE],
        [_data(1024)],
    ),
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def _hours(weekday, saturday=None, sunday=None) -> dict:
    hours = {day: list(weekday) for day in WEEKDAYS}
    if saturday:
        hours["saturday"] = list(saturday)
    if sunday:
        hours["sunday"] = list(sunday)
    return hours


# (id, market, name, street nr, street, locality, city, state, aliases, lat, lon, phone, hours)
SITES = [
    (
        "BJ-COT-GANHI",
        "BJ",
        "Boutique Cotonou Ganhi",
        "",
        "Avenue Clozel",
        "Ganhi",
        "Cotonou",
        "Littoral",
        "",
        "6.3562",
        "2.4318",
        "+22921310000",
        _hours(("08:00", "18:00"), ("09:00", "13:00")),
    ),
    (
        "BJ-COT-CADJEHOUN",
        "BJ",
        "Boutique Cotonou Cadjèhoun",
        "",
        "Boulevard de France",
        "Cadjèhoun",
        "Cotonou",
        "Littoral",
        "",
        "6.3613",
        "2.3897",
        "+22921300000",
        _hours(("08:00", "19:00"), ("09:00", "17:00")),
    ),
    (
        "BJ-PORTO-NOVO",
        "BJ",
        "Boutique Porto-Novo",
        "",
        "Avenue Jean-Paul II",
        "Centre",
        "Porto-Novo",
        "Ouémé",
        "",
        "6.4969",
        "2.6289",
        "+22920210000",
        _hours(("08:00", "17:30"), ("09:00", "13:00")),
    ),
    (
        "BJ-PARAKOU",
        "BJ",
        "Boutique Parakou",
        "",
        "Route de l'Aéroport",
        "Centre",
        "Parakou",
        "Borgou",
        "",
        "9.3400",
        "2.6300",
        "+22923610000",
        _hours(("08:00", "17:30"), ("09:00", "13:00")),
    ),
    (
        "GT-GUA-ZONA10",
        "GT",
        "Tienda Zona 10",
        "12-45",
        "6a Avenida",
        "Zona 10",
        "Guatemala",
        "Guatemala",
        "Ciudad de Guatemala;Zona Viva",
        "14.5995",
        "-90.5115",
        "+50222780000",
        _hours(("08:00", "19:00"), ("09:00", "17:00"), ("10:00", "14:00")),
    ),
    (
        "GT-MIXCO",
        "GT",
        "Tienda Mixco",
        "22-50",
        "Calzada San Juan",
        "Zona 4 de Mixco",
        "Mixco",
        "Guatemala",
        "",
        "14.6260",
        "-90.5850",
        "+50224380000",
        _hours(("08:00", "18:00"), ("09:00", "15:00")),
    ),
    (
        "GT-QUETZALTENANGO",
        "GT",
        "Tienda Quetzaltenango",
        "14-20",
        "4a Calle",
        "Zona 3",
        "Quetzaltenango",
        "Quetzaltenango",
        "Xela",
        "14.8347",
        "-91.5180",
        "+50277610000",
        _hours(("08:00", "18:00"), ("09:00", "13:00")),
    ),
]


def seed_catalogue(session) -> None:
    for market, offerings in (("BJ", BJ_OFFERINGS), ("GT", GT_OFFERINGS)):
        for offering_id, category, kind, name, description, price, days, payment_types, allowances in offerings:
            session.add(
                Offering(
                    id=offering_id,
                    market=market,
                    category=category,
                    kind=kind,
                    name=name,
                    description=description,
                    price=price * 100,
                    recurring="month" if category in ("addon", "plan") else None,
                    validity_days=days if category != "plan" else None,
                    payment_types=payment_types,
                    allowances=allowances,
                    loan_type=kind if category == "loan" else None,
                )
            )


def seed_sites(session) -> None:
    for site_id, market, name, nr, street, locality, city, state, aliases, lat, lon, phone, hours in SITES:
        session.add(
            Site(
                id=site_id,
                market=market,
                name=name,
                street_nr=nr or None,
                street_name=street,
                locality=locality,
                city=city,
                state_province=state,
                aliases=aliases,
                lat=lat,
                lon=lon,
                phone=phone,
                hours=hours,
            )
        )


def this_morning(at: datetime, market: str) -> datetime:
    """06:30 local today, or an hour ago if it is not yet that late: "since this morning" stays true."""
    zone = market_zone(market)
    local = at.replace(tzinfo=timezone.utc).astimezone(zone)
    morning = local.replace(hour=6, minute=30, second=0)
    if morning >= local:
        morning = local - timedelta(hours=1)
    return morning.astimezone(timezone.utc).replace(tzinfo=None)


def seed_service_problems(session, at: datetime) -> None:
    session.add(
        ServiceProblem(
            id="SP-BJ-PARAKOU-001",
            market="BJ",
            city="Parakou",
            name="Coupure internet mobile à Parakou",
            description="Internet mobile indisponible à Parakou suite à une panne d'équipement ; "
            "les équipes techniques interviennent.",
            category="network",
            affected_service="mobileData",
            priority=1,
            status="acknowledged",
            raised=this_morning(at, "BJ"),
            expected_resolution=at + timedelta(hours=4),
        )
    )
    session.add(
        ServiceProblem(
            id="SP-GT-MIXCO-001",
            market="GT",
            city="Mixco",
            name="Llamadas intermitentes en Mixco",
            description="Fallas intermitentes de llamadas en Mixco por mantenimiento de una radiobase.",
            category="network",
            affected_service="voice",
            priority=2,
            status="resolved",
            raised=at - timedelta(days=1, hours=6),
            expected_resolution=at - timedelta(days=1),
            resolved=at - timedelta(days=1, hours=1),
        )
    )
