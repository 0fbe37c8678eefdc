"""What moves money through the BSS: catalogue (TMF620), product orders (TMF622), bill payments (TMF676)
and top-ups (TMF654); mixed into BSSClient."""

from typing import Any, Dict, List, Optional

from clients.bss.models import ALLOWANCE_CHARACTERISTICS, Allowance, Offering, OrderResult, TopUp, parse_allowance
from clients.errors import BackendError


def _money_value(money: Optional[Dict[str, Any]]) -> Optional[float]:
    """TMF Money {"unit", "value"} or TMF654 Quantity {"amount", "units"} as a number."""
    if not money:
        return None
    value = money.get("value", money.get("amount"))
    return float(value) if value is not None else None


def _offering_from_json(o: Dict[str, Any]) -> Offering:
    categories = [c.get("name") for c in o.get("category", [])]
    prices = o.get("productOfferingPrice", [])
    main = next((p for p in prices if p.get("name") != "serviceFee"), {})
    fee = next((p for p in prices if p.get("name") == "serviceFee"), {})
    validity = next((t for t in o.get("productOfferingTerm", []) if t.get("name") == "validity"), {})
    allowances: Dict[str, Allowance] = {}
    for use in o.get("prodSpecCharValueUse", []):
        usage_type = next((k for k, v in ALLOWANCE_CHARACTERISTICS.items() if v == use.get("name")), None)
        value = next(iter(use.get("productSpecCharacteristicValue") or []), {})
        allowance = parse_allowance(usage_type, value.get("value"), value.get("unitOfMeasure")) if usage_type else None
        if allowance is not None:
            allowances[usage_type] = allowance
    price = main.get("price") or {}
    return Offering(
        id=o["id"],
        name=o.get("name", o["id"]),
        description=o.get("description", ""),
        category=categories[0] if categories else "",
        kind=categories[1] if len(categories) > 1 else "",
        price=_money_value(price) or 0.0,
        currency=price.get("unit", ""),
        recurring=main.get("priceType") == "recurring",
        validity_days=int((validity.get("duration") or {}).get("amount")) if validity else None,
        allowances=allowances,
        fee=_money_value(fee.get("price")) or 0.0,
        reason_code=o.get("recommendationReasonCode"),
        affordable=o.get("affordable"),
    )


def _order_result(item: Dict[str, Any]) -> OrderResult:
    charge, loan = item.get("charge") or {}, item.get("loan") or {}
    credited = loan.get("credited") or {}
    amount = charge.get("amount") or loan.get("amount") or {}
    return OrderResult(
        product_id=(item.get("product") or {}).get("id", ""),
        offering_name=(item.get("productOffering") or {}).get("name", ""),
        charged=_money_value(charge.get("amount")) or 0.0,
        payment_method=charge.get("paymentMethod"),
        balance_after=_money_value(charge.get("balanceAfter") or credited.get("balanceAfter")),
        currency=amount.get("unit") or amount.get("units", ""),
        loan_debt_after=_money_value(loan.get("loanDebtAfter")),
        loan_fee=_money_value(loan.get("fee")),
    )


class Commerce:
    """What moves money: catalogue, orders, top-ups (mixed into BSSClient). Every move carries an idempotency key."""

    def offerings(self, category: str, market: str, payment_type: str) -> List[Offering]:
        """What the catalogue sells in a market to a payment type, cheapest first within each kind."""
        found = self._get(
            "/productCatalogManagement/v4/productOffering",
            **{"category.name": category, "market": market, "paymentType": payment_type},
        )
        return [_offering_from_json(o) for o in found]

    def offering(self, offering_id: str) -> Optional[Offering]:
        try:
            return _offering_from_json(self._get(f"/productCatalogManagement/v4/productOffering/{offering_id}"))
        except BackendError as error:
            if error.status == 404:
                return None
            raise

    def recommendations(self, msisdn: str) -> List[Offering]:
        """The next best offers for a line, best first (ranked by the BSS on the line's recent usage)."""
        return [
            _offering_from_json(o)
            for o in self._get("/productCatalogManagement/v4/productOffering", recommendedFor=msisdn)
        ]

    def order(self, msisdn: str, offering_id: str, payment: str, idempotency_key: str) -> OrderResult:
        """Buys a pack or add-on, or takes a loan pack, for a line; payment "airtime" (main balance) or "wallet"."""
        body = {
            "productOrderItem": [
                {
                    "id": "1",
                    "action": "add",
                    "productOffering": {"id": offering_id},
                    "product": {"productCharacteristic": [{"name": "MSISDN", "value": msisdn}]},
                }
            ],
            "payment": [{"id": payment}],
            "channel": [{"name": "chatbot"}],
        }
        reply = self._request(
            "POST", "/productOrderingManagement/v4/productOrder", json=body, idempotency_key=idempotency_key
        ).json()
        return _order_result(reply["productOrderItem"][0])

    def cancel_add_on(self, product_id: str, idempotency_key: str) -> OrderResult:
        body = {
            "productOrderItem": [{"id": "1", "action": "delete", "product": {"id": product_id}}],
            "channel": [{"name": "chatbot"}],
        }
        reply = self._request(
            "POST", "/productOrderingManagement/v4/productOrder", json=body, idempotency_key=idempotency_key
        ).json()
        return _order_result(reply["productOrderItem"][0])

    def pay_bill_from_wallet(
        self, account_id: str, bill_id: str, amount: float, currency: str, payer: str, idempotency_key: str
    ) -> str:
        """Pays a bill from the mobile money wallet of the line `payer` (TMF676); answers the payment id."""
        total = {"unit": currency, "value": amount}
        body = {
            "account": {"id": account_id},
            "paymentMethod": {"id": "wallet"},
            "totalAmount": total,
            "paymentItem": [{"item": {"id": bill_id}, "totalAmount": total}],
            "payer": {"id": payer},
            "channel": {"name": "chatbot"},
        }
        return self._request(
            "POST", "/paymentManagement/v4/payment", json=body, idempotency_key=idempotency_key
        ).json()["id"]

    def top_up(self, msisdn: str, amount: float, currency: str, payer: str, idempotency_key: str) -> TopUp:
        """Tops up `msisdn` with `amount` from the mobile money wallet of the line `payer`."""
        body = {
            "amount": {"amount": amount, "units": currency},
            "usageType": "monetary",
            "logicalResource": [{"id": msisdn, "@referredType": "MSISDN"}],
            "paymentMethod": {"id": "wallet"},
            "relatedParty": [{"id": payer, "role": "payer", "@referredType": "MSISDN"}],
            "channel": {"name": "chatbot"},
        }
        reply = self._request(
            "POST", "/prepayBalanceManagement/v4/topupBalance", json=body, idempotency_key=idempotency_key
        ).json()
        return TopUp(
            amount=amount,
            credited=_money_value(reply.get("creditedAmount")) or 0.0,
            loan_repayment=_money_value(reply.get("loanRepayment")) or 0.0,
            remaining_loan_debt=_money_value(reply.get("remainingLoanDebt")) or 0.0,
            balance_after=_money_value(reply.get("balanceAfter")) or 0.0,
            currency=currency,
        )
