"""The fixture customers of shared/spec/sandbox.md, seeded on first start and by /_sandbox/reset.

Every date is relative to the moment of seeding, so "a pass ending in 3 days" or "a bill due in 10
days" is true right after a reset. Money here is in whole currency units (Q35.50 is 35.50); the
tables store hundredths. 1 GB = 1024 MB.
"""

from datetime import timedelta

from sqlalchemy import select

from sandbox import db
from sandbox.bss import reference_data
from sandbox.bss.common import iso, now
from sandbox.bss.models import Bill, BillingAccount, Bucket, Loan, Party, Payment, Product, UsageRecord

BJ_CALL_PER_MIN, BJ_SMS = 50, 25  # XOF, out of bundle
GT_CALL_PER_MIN, GT_SMS = 0.60, 0.30  # GTQ, out of bundle


def cents(value) -> int:
    return int(round(value * 100))


def seed_if_empty() -> None:
    with db.transaction() as session:
        if session.execute(select(Party.id)).first() is not None:
            return
    seed()


def seed() -> None:
    at = now()
    with db.transaction() as session:
        reference_data.seed_catalogue(session)
        reference_data.seed_sites(session)
        reference_data.seed_service_problems(session, at)
        for customer in (awa, carlos, maria, hogar_perez, john, koffi, suspended):
            customer(Seeder(session, at))


class Seeder:
    """Writes one customer: party, billing account, line or contract, buckets, usage, bills."""

    def __init__(self, session, at):
        self.session, self.at = session, at

    def ago(self, days=0, hours=0):
        return self.at - timedelta(days=days, hours=hours)

    def ahead(self, days=0, hours=0):
        return self.at + timedelta(days=days, hours=hours)

    def customer(
        self,
        number,
        given,
        family,
        language,
        city,
        country,
        market,
        currency,
        account_type,
        credit_limit=0,
        phone=None,
        email=None,
        id_type=None,
        id_number=None,
    ):
        self.number, self.market, self.currency, self.phone = number, market, currency, phone
        self.party_id, self.account_id = f"IND-{number:04d}", f"BA-{number:04d}"
        self.session.add(
            Party(
                id=self.party_id,
                customer_id=f"CUST-{number:04d}",
                given_name=given,
                family_name=family,
                language=language,
                city=city,
                country=country,
                email=email,
                phone=phone,
                id_type=id_type,
                id_number=id_number,
            )
        )
        self.session.add(
            BillingAccount(
                id=self.account_id,
                party_id=self.party_id,
                name=f"{given} {family}",
                market=market,
                currency=currency,
                account_type=account_type,
                credit_limit=cents(credit_limit),
            )
        )
        self.session.flush()

    def product(
        self,
        product_id,
        kind,
        name,
        offering_id,
        start,
        status="active",
        end=None,
        price=None,
        recurring=None,
        msisdn=None,
        **characteristics,
    ):
        self.session.add(
            Product(
                id=product_id,
                kind=kind,
                name=name,
                status=status,
                offering_id=offering_id,
                msisdn=msisdn or self.phone,
                billing_account_id=self.account_id,
                party_id=self.party_id,
                price=cents(price) if price is not None else None,
                recurring=recurring,
                start=start,
                end=end,
                characteristics=characteristics,
            )
        )
        return product_id

    def money_bucket(self, bucket_type, name, amount, valid_to=None):
        value = cents(amount)
        self.session.add(
            Bucket(
                id=f"BKT-{self.number:04d}-{bucket_type.upper()}",
                msisdn=self.phone,
                billing_account_id=self.account_id,
                bucket_type=bucket_type,
                name=name,
                usage_type="monetary",
                units=self.currency,
                initial=value,
                remaining=value,
                valid_from=self.ago(days=365),
                valid_to=valid_to,
            )
        )

    def allowance(self, suffix, usage_type, name, initial, remaining, start, end, product_id=None):
        units = {"data": "MB", "voice": "min", "sms": "SMS"}[usage_type]
        self.session.add(
            Bucket(
                id=f"BKT-{self.number:04d}-{suffix}",
                msisdn=self.phone,
                billing_account_id=self.account_id,
                bucket_type=usage_type,
                name=name,
                usage_type=usage_type,
                units=units,
                initial=initial,
                remaining=remaining,
                valid_from=start,
                valid_to=end,
                product_id=product_id,
            )
        )

    def usage(self, records):
        """records: (days ago, hours ago, type, destination or None, seconds or MB or None, cost, rated against)."""
        for index, (days, hours, kind, destination, size, cost, rated_against) in enumerate(records, start=1):
            self.session.add(
                UsageRecord(
                    id=f"USG-{self.number:04d}-{index:03d}",
                    msisdn=self.phone,
                    party_id=self.party_id,
                    usage_type=kind,
                    date=self.ago(days, hours),
                    destination=destination,
                    duration_s=size if kind == "voice" else None,
                    volume_mb=size if kind == "data" else None,
                    cost=cents(cost),
                    currency=self.currency,
                    rated_against=rated_against,
                )
            )

    def bill(self, sequence, amount, bill_date, due_date, paid_on=None, method=None):
        bill_id = f"CB-{self.number:04d}-{sequence:03d}"
        value = cents(amount)
        self.session.add(
            Bill(
                id=bill_id,
                bill_no=f"F{self.market}-{bill_date:%Y%m}-{self.number:04d}{sequence}",
                billing_account_id=self.account_id,
                bill_date=bill_date,
                due_date=due_date,
                period_start=bill_date - timedelta(days=30),
                period_end=bill_date,
                amount=value,
                remaining=0 if paid_on else value,
                currency=self.currency,
                state="settled" if paid_on else "sent",
            )
        )
        if paid_on:
            self.session.add(
                Payment(
                    id=f"PAY-{self.number:04d}-{sequence:03d}",
                    billing_account_id=self.account_id,
                    method=method,
                    amount=value,
                    currency=self.currency,
                    correlator_id=f"seed-{bill_id}",
                    channel="web",
                    payer=self.phone,
                    date=paid_on,
                    items=[{"bill_id": bill_id, "amount": value}],
                )
            )


def bj_call(seconds):
    return -(-seconds // 60) * BJ_CALL_PER_MIN


def gt_call(seconds):
    return round(-(-seconds // 60) * GT_CALL_PER_MIN, 2)


def awa(s: Seeder):
    s.customer(
        1,
        "Awa",
        "Houngbédji",
        "fr",
        "Cotonou",
        "Benin",
        "BJ",
        "XOF",
        "prepaid",
        credit_limit=1000,
        phone="+2290197000001",
        email="awa.houngbedji@example.com",
        id_type="NPI",
        id_number="1200345671",
    )
    s.product(
        "MOB-2290197000001", "MobileLine", "Prépayé Classique", "BJ-PLAN-PREPAID", s.ago(days=1100), city="Cotonou"
    )
    s.money_bucket("main", "Crédit principal", 2500)
    s.money_bucket("bonus", "Bonus", 500, valid_to=s.ahead(days=20))
    s.money_bucket("wallet", "Mobile Money", 15000)
    pack = s.product(
        "PCK-0001-PASS2GO", "Pack", "Pass Internet 2 Go", "BJ-PASS-2GO", s.ago(days=4), price=1000, end=s.ahead(days=3)
    )
    s.allowance("DATA", "data", "Pass Internet 2 Go", 2048, 1536, s.ago(days=4), s.ahead(days=3), pack)
    s.allowance("SMS", "sms", "SMS offerts", 30, 20, s.ago(days=10), s.ahead(days=10))
    s.product(
        "ADD-0001-MELODIE",
        "AddOn",
        "Ma Mélodie",
        "BJ-ADDON-MELODIE",
        s.ago(days=40),
        price=300,
        recurring="month",
        renewalDate=iso(s.ahead(days=20)),
    )
    s.usage(
        [
            (0, 2, "voice", "+2290196123456", 180, bj_call(180), "Crédit principal"),
            (1, 5, "data", None, 220, 0, "Pass Internet 2 Go"),
            (1, 9, "sms", "+2290197112233", None, 0, "SMS offerts"),
            (2, 3, "voice", "+2290161234567", 95, bj_call(95), "Crédit principal"),
            (2, 8, "data", None, 150, 0, "Pass Internet 2 Go"),
            (3, 1, "data", None, 142, 0, "Pass Internet 2 Go"),
            (3, 4, "sms", "+2290196123456", None, 0, "SMS offerts"),
            (4, 6, "voice", "+2290195556677", 420, bj_call(420), "Crédit principal"),
            (6, 7, "sms", "+2290167889900", None, BJ_SMS, "Crédit principal"),
        ]
    )


def carlos(s: Seeder):
    s.customer(
        2,
        "Carlos",
        "Méndez",
        "es",
        "Guatemala",
        "Guatemala",
        "GT",
        "GTQ",
        "prepaid",
        credit_limit=25,
        phone="+50255500002",
        email="carlos.mendez@example.com",
        id_type="DPI",
        id_number="1876543210101",
    )
    s.product("MOB-50255500002", "MobileLine", "Prepago Clásico", "GT-PLAN-PREPAGO", s.ago(days=800), city="Guatemala")
    s.money_bucket("main", "Saldo principal", 35.50)
    s.money_bucket("wallet", "Tigo Money", 120.00)
    pack = s.product(
        "PCK-0002-5GB", "Pack", "Paquete 5 GB 15 días", "GT-PAQ-5GB-15D", s.ago(days=6), price=40, end=s.ahead(days=9)
    )
    s.allowance("DATA", "data", "Paquete 5 GB 15 días", 5120, 3072, s.ago(days=6), s.ahead(days=9), pack)
    s.product(
        "ADD-0002-MUSICA",
        "AddOn",
        "Música sin Límites",
        "GT-ADDON-MUSICA",
        s.ago(days=15),
        price=25,
        recurring="month",
        renewalDate=iso(s.ahead(days=15)),
    )
    # A Q10 advance (Q1 fee) of which Q1 was already recovered: Q10.00 still owed.
    s.session.add(
        Loan(
            id="LOAN-0002-001",
            billing_account_id=s.account_id,
            msisdn=s.phone,
            offering_id="GT-LOAN-SALDO-10",
            loan_type="airtime",
            principal=cents(10),
            fee=cents(1),
            outstanding=cents(10),
            created=s.ago(days=5),
        )
    )
    s.usage(
        [
            (0, 1, "data", None, 512, 0, "Paquete 5 GB 15 días"),
            (0, 3, "voice", "+50255123456", 240, gt_call(240), "Saldo principal"),
            (1, 2, "sms", "+50242123456", None, GT_SMS, "Saldo principal"),
            (1, 6, "voice", "+50242123456", 60, gt_call(60), "Saldo principal"),
            (2, 4, "data", None, 700, 0, "Paquete 5 GB 15 días"),
            (3, 2, "voice", "+50255987654", 600, gt_call(600), "Saldo principal"),
            (4, 3, "data", None, 426, 0, "Paquete 5 GB 15 días"),
            (4, 8, "sms", "+50255987654", None, GT_SMS, "Saldo principal"),
            (5, 5, "voice", "+50255123456", 120, gt_call(120), "Saldo principal"),
            (5, 20, "data", None, 410, 0, "Paquete 5 GB 15 días"),
        ]
    )


def maria(s: Seeder):
    s.customer(
        3,
        "María",
        "López",
        "es",
        "Guatemala",
        "Guatemala",
        "GT",
        "GTQ",
        "postpaid",
        phone="+50235500003",
        email="maria.lopez@example.com",
        id_type="DPI",
        id_number="2987654320101",
    )
    cycle_start, renewal = s.ago(days=5), s.ahead(days=25)
    line = s.product(
        "MOB-50235500003",
        "MobileLine",
        "Tigo Plus 150",
        "GT-PLAN-TIGO-PLUS-150",
        s.ago(days=700),
        price=150,
        recurring="month",
        city="Guatemala",
        dataAllowance="15 GB",
        voiceAllowance="unlimited",
        smsAllowance="unlimited",
        renewalDate=iso(renewal),
    )
    s.allowance("DATA", "data", "Tigo Plus 150", 15360, 9830, cycle_start, renewal, line)
    s.money_bucket("wallet", "Tigo Money", 200.00)
    s.bill(1, 150.00, s.ago(days=65), s.ago(days=50), paid_on=s.ago(days=52), method="wallet")
    s.bill(2, 150.00, s.ago(days=35), s.ago(days=20), paid_on=s.ago(days=22), method="card")
    s.bill(3, 150.00, s.ago(days=5), s.ahead(days=10))
    s.usage(
        [
            (0, 2, "data", None, 1200, 0, "Tigo Plus 150"),
            (0, 4, "voice", "+50222334455", 300, 0, "Tigo Plus 150"),
            (1, 1, "sms", "+50255667788", None, 0, "Tigo Plus 150"),
            (1, 3, "voice", "+50255667788", 900, 0, "Tigo Plus 150"),
            (2, 1, "data", None, 1800, 0, "Tigo Plus 150"),
            (2, 5, "voice", "+50241112233", 420, 0, "Tigo Plus 150"),
            (3, 7, "data", None, 1500, 0, "Tigo Plus 150"),
            (4, 2, "voice", "+50222334455", 1200, 0, "Tigo Plus 150"),
            (4, 9, "data", None, 1030, 0, "Tigo Plus 150"),
            (6, 6, "voice", "+50255667788", 180, 0, "Tigo Plus 150"),
        ]
    )


def hogar_perez(s: Seeder):
    s.customer(
        4,
        "Jorge",
        "Pérez",
        "es",
        "Mixco",
        "Guatemala",
        "GT",
        "GTQ",
        "home",
        email="hogar.perez@example.com",
        id_type="DPI",
        id_number="2456789010101",
    )
    s.product(
        "HG-100004",
        "HomeInternet",
        "Internet Hogar 100 Mbps",
        "GT-PLAN-HOGAR-100",
        s.ago(days=500),
        price=299,
        recurring="month",
        city="Mixco",
        downloadSpeed="100 Mbps",
        uploadSpeed="50 Mbps",
        installationAddress="Calzada San Juan 14-20, zona 4 de Mixco",
        renewalDate=iso(s.ahead(days=20)),
    )
    s.bill(1, 299.00, s.ago(days=40), s.ago(days=25))
    s.bill(2, 299.00, s.ago(days=10), s.ahead(days=5))


def john(s: Seeder):
    s.customer(
        5,
        "John",
        "Adebayo",
        "en",
        "Cotonou",
        "Benin",
        "BJ",
        "XOF",
        "prepaid",
        credit_limit=500,
        phone="+2290196000005",
        email="john.adebayo@example.com",
        id_type="NPI",
        id_number="1200987655",
    )
    s.product(
        "MOB-2290196000005", "MobileLine", "Prépayé Classique", "BJ-PLAN-PREPAID", s.ago(days=300), city="Cotonou"
    )
    s.money_bucket("main", "Crédit principal", 800)
    s.money_bucket("wallet", "Mobile Money", 0)
    pack = s.product(
        "PCK-0005-PASS1GO", "Pack", "Pass Internet 1 Go", "BJ-PASS-1GO", s.ago(days=5), price=500, end=s.ahead(days=2)
    )
    s.allowance("DATA", "data", "Pass Internet 1 Go", 1024, 0, s.ago(days=5), s.ahead(days=2), pack)
    s.usage(
        [
            (0, 3, "data", None, 180, 0, "Pass Internet 1 Go"),
            (1, 2, "data", None, 250, 0, "Pass Internet 1 Go"),
            (1, 9, "data", None, 120, 0, "Pass Internet 1 Go"),
            (2, 1, "voice", "+2290197000001", 60, bj_call(60), "Crédit principal"),
            (2, 4, "data", None, 230, 0, "Pass Internet 1 Go"),
            (3, 2, "sms", "+2290197000001", None, BJ_SMS, "Crédit principal"),
            (3, 5, "data", None, 144, 0, "Pass Internet 1 Go"),
            (4, 2, "data", None, 100, 0, "Pass Internet 1 Go"),
            (5, 6, "data", None, 150, 0, "Pass Jour 150 Mo"),
            (6, 4, "data", None, 150, 0, "Pass Jour 150 Mo"),
        ]
    )


def koffi(s: Seeder):
    s.customer(
        6,
        "Koffi",
        "Agossou",
        "fr",
        "Parakou",
        "Benin",
        "BJ",
        "XOF",
        "prepaid",
        credit_limit=500,
        phone="+2290166000006",
        email="koffi.agossou@example.com",
        id_type="NPI",
        id_number="1200555662",
    )
    s.product(
        "MOB-2290166000006", "MobileLine", "Prépayé Classique", "BJ-PLAN-PREPAID", s.ago(days=900), city="Parakou"
    )
    s.money_bucket("main", "Crédit principal", 1000)
    s.money_bucket("wallet", "Mobile Money", 0)
    pack = s.product(
        "PCK-0006-PASS1GO", "Pack", "Pass Internet 1 Go", "BJ-PASS-1GO", s.ago(days=3), price=500, end=s.ahead(days=4)
    )
    s.allowance("DATA", "data", "Pass Internet 1 Go", 1024, 700, s.ago(days=3), s.ahead(days=4), pack)
    s.usage(
        [
            (1, 3, "data", None, 120, 0, "Pass Internet 1 Go"),
            (1, 8, "voice", "+2290166123456", 120, bj_call(120), "Crédit principal"),
            (2, 5, "data", None, 104, 0, "Pass Internet 1 Go"),
            (2, 22, "data", None, 100, 0, "Pass Internet 1 Go"),
        ]
    )


def suspended(s: Seeder):
    s.customer(
        7,
        "Luis",
        "Ramírez",
        "es",
        "Guatemala",
        "Guatemala",
        "GT",
        "GTQ",
        "prepaid",
        credit_limit=25,
        phone="+50255500007",
        email="luis.ramirez@example.com",
        id_type="DPI",
        id_number="3012456780101",
    )
    s.product(
        "MOB-50255500007",
        "MobileLine",
        "Prepago Clásico",
        "GT-PLAN-PREPAGO",
        s.ago(days=400),
        status="suspended",
        city="Guatemala",
    )
    s.money_bucket("main", "Saldo principal", 12.00)
    s.money_bucket("wallet", "Tigo Money", 40.00)
    s.usage(
        [
            (5, 2, "voice", "+50255123456", 60, gt_call(60), "Saldo principal"),
            (6, 3, "sms", "+50255123456", None, GT_SMS, "Saldo principal"),
        ]
    )
