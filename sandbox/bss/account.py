"""TMF666 Account Management: billing accounts, their credit limit and their loan debt."""

from sqlalchemy import select

from sandbox import db

from .api import blueprint
from .common import href, iso, listing, money, not_found, now, one
from .ledger import loan_debt, open_loans
from .models import Bill, BillingAccount, Party
from .party import customer_ref

BILLING_ACCOUNT = "/tmf-api/accountManagement/v4/billingAccount"


def payment_status(session, account: BillingAccount):
    """For accounts that receive bills: overdue, due or paid."""
    if account.account_type == "prepaid":
        return None
    unpaid = [
        b
        for b in session.execute(select(Bill).where(Bill.billing_account_id == account.id)).scalars()
        if b.remaining > 0
    ]
    if any(b.due_date < now() for b in unpaid):
        return "overdue"
    return "due" if unpaid else "paid"


def billing_account_json(session, account: BillingAccount) -> dict:
    debt = loan_debt(session, account.id)
    balances = [
        {"balanceType": "loanDebt", "amount": money(debt, account.currency)},
        {"balanceType": "loanCreditAvailable", "amount": money(max(account.credit_limit - debt, 0), account.currency)},
    ]
    if account.account_type != "prepaid":
        receivable = sum(
            b.remaining for b in session.execute(select(Bill).where(Bill.billing_account_id == account.id)).scalars()
        )
        balances.append({"balanceType": "receivable", "amount": money(receivable, account.currency)})
    body = {
        "id": account.id,
        "href": href(f"{BILLING_ACCOUNT}/{account.id}"),
        "name": account.name,
        "accountType": account.account_type,
        "state": account.state,
        "creditLimit": money(account.credit_limit, account.currency),
        "accountBalance": balances,
        "loan": [
            {
                "id": loan.id,
                "loanType": loan.loan_type,
                "productOffering": {"id": loan.offering_id},
                "principal": money(loan.principal, account.currency),
                "fee": money(loan.fee, account.currency),
                "outstanding": money(loan.outstanding, account.currency),
                "creationDate": iso(loan.created),
            }
            for loan in open_loans(session, account.id)
        ],
        "relatedParty": [customer_ref(session.get(Party, account.party_id))],
        "characteristic": [
            {"name": "market", "value": account.market},
            {"name": "currency", "value": account.currency},
        ],
        "@type": "BillingAccount",
    }
    status = payment_status(session, account)
    if status:
        body["paymentStatus"] = status
    return body


@blueprint.get(BILLING_ACCOUNT)
def list_billing_accounts():
    with db.transaction() as session:
        accounts = session.execute(select(BillingAccount).order_by(BillingAccount.id)).scalars()
        return listing([billing_account_json(session, a) for a in accounts])


@blueprint.get(f"{BILLING_ACCOUNT}/<account_id>")
def get_billing_account(account_id):
    with db.transaction() as session:
        account = session.get(BillingAccount, account_id)
        if account is None:
            raise not_found("billingAccount", account_id)
        return one(billing_account_json(session, account))
