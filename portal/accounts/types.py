"""Who a service acts for, as every service signature names it."""

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from portal.accounts.models import User

# Not a person: "system", "automation" (the licence automation), "anonymous", or the name someone
# typed at a failed sign-in. The audit trail shows it as the actor's label.
SystemActor: TypeAlias = str

# A signed-in user, a system actor, or None (the trail says "system").
Actor: TypeAlias = "User | SystemActor | None"


def actor_user(actor: Actor) -> "User | None":
    """The user behind an actor, for a `created_by`-style column: None for a system actor."""
    return actor if actor is not None and not isinstance(actor, str) and actor.pk else None
