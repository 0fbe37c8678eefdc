"""Where money really moves: lines, balances, debits, credits and loan repayment.

Every function works inside the caller's transaction, so a refused step rolls the whole move back.
"""

from sqlalchemy import select

from sandbox.errors import TMFError

from .common import fmt_money, not_found, now
from .models import BillingAccount, Bucket, Loan, Product

# payment[].id of an order / paymentMethod.id of a top-up -> the bucket it draws from
PAYMENT_BUCKETS = {"airtime": "main", "wallet": "wallet"}


def find_line(session, msisdn: str) -> Product:
    """The MobileLine product realised by an MSISDN."""
    wanted = "+" + str(msisdn).strip().lstrip("+")
    line = session.execute(select(Product).where(Product.kind == "MobileLine", Product.msisdn == wanted)).scalar()
    if line is None:
        raise not_found("line", wanted)
    return line


def find_account(session, account_id: str) -> BillingAccount:
    account = session.get(BillingAccount, account_id)
    if account is None:
        raise not_found("billingAccount", account_id)
    return account


def ensure_active(line: Product) -> None:
    if line.status == "suspended":
        raise TMFError(
            403,
            "ERR_LINE_SUSPENDED",
            "Line suspended",
            f"The line {line.msisdn} is suspended: self-service cannot move money on it",
        )
    if line.status != "active":
        raise TMFError(403, "ERR_LINE_SUSPENDED", "Line not active", f"The line {line.msisdn} is {line.status}")


def is_expired(bucket: Bucket, at=None) -> bool:
    return bucket.valid_to is not None and bucket.valid_to <= (at or now())


def bucket_status(bucket: Bucket, line_status: str) -> str:
    if is_expired(bucket):
        return "expired"
    return "suspended" if line_status == "suspended" else "active"


def product_status(product: Product) -> str:
    """A pack ends with its validity; everything else keeps the status it was given."""
    if product.kind == "Pack" and product.status == "active" and product.end and product.end <= now():
        return "terminated"
    return product.status


def money_bucket(session, msisdn: str, bucket_type: str):
    return (
        session.execute(select(Bucket).where(Bucket.msisdn == msisdn, Bucket.bucket_type == bucket_type))
        .scalars()
        .first()
    )


def live_buckets(session, msisdn: str, usage_type: str = None) -> list:
    query = select(Bucket).where(Bucket.msisdn == msisdn)
    if usage_type:
        query = query.where(Bucket.usage_type == usage_type)
    return [b for b in session.execute(query).scalars() if not is_expired(b)]


def debit(session, msisdn: str, payment_id: str, cents: int, currency: str, what: str) -> Bucket:
    """Takes `cents` from the airtime (main) balance or the mobile money wallet; 409 if short."""
    bucket_type = PAYMENT_BUCKETS.get(payment_id)
    if bucket_type is None:
        raise TMFError(
            400,
            "ERR_BAD_REQUEST",
            "Bad request",
            f"payment id must be one of {sorted(PAYMENT_BUCKETS)}, got {payment_id!r}",
        )
    bucket = money_bucket(session, msisdn, bucket_type)
    available = bucket.remaining if bucket is not None else 0
    if bucket is None or available < cents:
        label = "airtime balance" if bucket_type == "main" else "mobile money wallet"
        raise TMFError(
            409,
            "ERR_INSUFFICIENT_FUNDS",
            "Insufficient funds",
            f"{what} costs {fmt_money(cents, currency)} but the {label} of {msisdn} holds "
            f"{fmt_money(available, currency)}",
        )
    bucket.remaining -= cents
    return bucket


def loan_debt(session, account_id: str) -> int:
    return sum(loan.outstanding for loan in open_loans(session, account_id))


def open_loans(session, account_id: str) -> list:
    return list(
        session.execute(
            select(Loan)
            .where(Loan.billing_account_id == account_id, Loan.outstanding > 0)
            .order_by(Loan.created, Loan.id)
        ).scalars()
    )


def repay_loans(session, account_id: str, cents: int) -> int:
    """Pays outstanding advances, oldest first, with up to `cents`; returns how much it took."""
    repaid = 0
    for loan in open_loans(session, account_id):
        part = min(loan.outstanding, cents - repaid)
        loan.outstanding -= part
        repaid += part
        if repaid == cents:
            break
    return repaid
