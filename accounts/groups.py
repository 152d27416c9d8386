"""The staff groups, and the helper that data migrations use to grant them permissions.

accounts/migrations/0002 creates the groups; each app's migration grants its own
permissions, so a group's rights grow with the apps.
"""

from django.contrib.auth.management import create_permissions

CITY_ADMINS = "City admins"
CITY_STAFF = "City staff"
CRUD = ("add", "change", "delete", "view")


def grant_permissions(apps, *, group: str, app_label: str, codenames: list[str]) -> None:
    """Give ``group`` these permissions of ``app_label``; for use inside ``RunPython``.

    Permissions are normally created after ``migrate``; they are created here first so the
    grant works on a fresh database.
    """
    app_config = apps.get_app_config(app_label)
    if getattr(app_config, "models_module", None) is None:  # a migration's historical app
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    else:
        create_permissions(app_config, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group_row, _created = Group.objects.get_or_create(name=group)
    group_row.permissions.add(
        *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    )


def model_permissions(models: list[str], actions: tuple[str, ...] = CRUD) -> list[str]:
    return [f"{action}_{model}" for model in models for action in actions]
