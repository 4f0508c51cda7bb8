"""The domain types the services hand out and take, for the layers above them.

The rows are defined where they are stored (storage/); handlers, views and jobs import them
from here, so nothing above the services reaches into storage.
"""

from __future__ import annotations

from storage.clients import Client, ClientListItem, ClientStatus
from storage.company_templates import CompanyTemplate
from storage.contacts import Contact, ContactKind, ContactState, Outcome, PendingContact
from storage.digest_figures import PlanItem
from storage.digest_ledger import Delivery, DigestKind, DigestPrefs
from storage.invoices import InvoiceEntry, InvoiceState, Payment, Promise, TrustLevel
from storage.steps import Step, StepEntry, StepKind, StepState
from storage.users import Role, User, clock_text

__all__ = [
    "Client",
    "ClientListItem",
    "ClientStatus",
    "CompanyTemplate",
    "Contact",
    "ContactKind",
    "ContactState",
    "Delivery",
    "DigestKind",
    "DigestPrefs",
    "InvoiceEntry",
    "InvoiceState",
    "Outcome",
    "Payment",
    "PendingContact",
    "PlanItem",
    "Promise",
    "Role",
    "Step",
    "StepEntry",
    "StepKind",
    "StepState",
    "TrustLevel",
    "User",
    "clock_text",
]
