"""A small bank on the entity runtime, shared by the runtime tests and their child
processes (tests/persist/test_runtime*.py)."""
import pydantic

from rustmemodb.persist.runtime import DELETE, EntityRuntime, Projection


class Account(pydantic.BaseModel):
    owner: str
    balance: int = 0


class InsufficientFunds(Exception):
    pass


def by_owner(w, e):
    """Balance and count per owner: subtract the old state, add the new one."""
    for state, sign in ((e.before, -1), (e.after, 1)):
        if state is None:
            continue
        row = w.execute('SELECT "total", "accounts" FROM "by_owner" WHERE "owner" = ?',
                        (state["owner"],)).fetchone()
        total, count = row if row else (0, 0)
        total, count = total + sign * state["balance"], count + sign
        if count == 0:
            w.delete({"owner": state["owner"]})
        else:
            w.upsert({"owner": state["owner"]}, {"total": total, "accounts": count})


def account_list(w, e):
    if e.after is None:
        w.delete({"id": e.entity_id})
    else:
        w.upsert({"id": e.entity_id}, {"owner": e.after["owner"],
                                       "balance": e.after["balance"], "version": e.version})


def build(app):
    rt = EntityRuntime(app)
    rt.entity("account", app.collection("accounts", Account))

    @rt.command("account", "open", creates=True)
    def open_(_, p, ctx):
        ctx.emit("account.opened", {"owner": p["owner"]})
        return {"owner": p["owner"], "balance": p.get("initial", 0)}

    @rt.command("account", "deposit")
    def deposit(acct, p, ctx):
        acct.balance += p["amount"]
        ctx.emit("account.deposited", {"amount": p["amount"]})

    @rt.command("account", "withdraw")
    def withdraw(acct, p, ctx):
        if p["amount"] > acct.balance:
            raise InsufficientFunds(f"{acct.balance} < {p['amount']}")
        acct.balance -= p["amount"]
        ctx.emit("account.withdrew", {"amount": p["amount"]})
        return acct

    # Renamed from change_owner, whose payload said "name" (version 1).
    @rt.command("account", "rename_owner", version=2, aliases=("change_owner",))
    def rename_owner(acct, p, ctx):
        return acct.model_copy(update={"owner": p["owner"]})

    @rt.registry.upcaster("account", "rename_owner", 1)
    def v1_to_v2(p):
        return {"owner": p.pop("name")}

    @rt.command("account", "close")
    def close(acct, p, ctx):
        ctx.emit("account.closed", {})
        return DELETE

    rt.projection(Projection("by_owner", '"owner" TEXT PRIMARY KEY, "total" INTEGER, '
                             '"accounts" INTEGER', by_owner))
    rt.projection(Projection("account_list", '"id" UUID PRIMARY KEY, "owner" TEXT, '
                             '"balance" INTEGER, "version" INTEGER', account_list))
    return rt
