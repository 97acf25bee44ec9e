"""Creating, destroying and re-keying tenants as sagas that never leave orphans.

A tenant is created in steps that must all succeed: create its database, mint
its token, wait until it answers, migrate it, check it answers a query, and
only then insert its registry row. A failure undoes what this run did (deletes
the new database); when the undo fails too, the error names the exact command
that cleans up. Re-running after a partial failure finishes the job: a
database that exists but is not registered is adopted when it answers.

Two provisioners share one interface: `TursoProvisioner` (the Platform API) and
`LocalProvisioner` (a `file:` database per tenant under the data directory),
chosen by `settings.uses_platform_api`. Nothing here knows about the UI.
"""

from typing import TYPE_CHECKING, Any

from tursotui.provision.base import (
    CREATE_STEPS,
    DESTROY_STEPS,
    ROTATE_STEPS,
    SLUG_PATTERN,
    DatabaseExists,
    Progress,
    Provisioner,
    ProvisionError,
    StepReport,
    slug_problem,
    wait_until_answers,
)

if TYPE_CHECKING:
    from tursotui.provision.create import create_tenant
    from tursotui.provision.maintain import (
        destroy_refusal,
        destroy_tenant,
        rotate_refusal,
        rotate_token,
    )
    from tursotui.provision.provisioners import (
        LocalProvisioner,
        TursoProvisioner,
        provisioner_for,
    )

_LAZY = {
    "create_tenant": "create",
    "destroy_refusal": "maintain",
    "destroy_tenant": "maintain",
    "rotate_refusal": "maintain",
    "rotate_token": "maintain",
    "LocalProvisioner": "provisioners",
    "TursoProvisioner": "provisioners",
    "provisioner_for": "provisioners",
}
"""What is imported from its module when first asked for: creating a tenant loads the
migrations, which the commands and screens that only read a tenant's flags (delete
protection) or check a slug do not need."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


# The CLI treats the error types of `tursotui.provision` as the user's to act on
# (`tursotui.cli.common.user_errors` looks them up by module): they are this package's API.
ProvisionError.__module__ = __name__
DatabaseExists.__module__ = __name__

__all__ = [
    "CREATE_STEPS",
    "DESTROY_STEPS",
    "ROTATE_STEPS",
    "SLUG_PATTERN",
    "DatabaseExists",
    "LocalProvisioner",
    "Progress",
    "ProvisionError",
    "Provisioner",
    "StepReport",
    "TursoProvisioner",
    "create_tenant",
    "destroy_refusal",
    "destroy_tenant",
    "provisioner_for",
    "rotate_refusal",
    "rotate_token",
    "slug_problem",
    "wait_until_answers",
]
