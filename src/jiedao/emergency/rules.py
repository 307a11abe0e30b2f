"""Pure rules of 应急管理 that services and selectors both apply: who may act for the command
centre, and who may check on a special-care resident (the grid worker of the resident's grid, or
the command centre for every grid)."""

from .states import COMMAND


def may_command(user) -> bool:
    return user is not None and user.is_authenticated and user.has_role(*COMMAND)


def may_check(user, check) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.has_role(*COMMAND):
        return True
    return user.has_role("grid") and check.grid_id is not None and user.grids.filter(pk=check.grid_id).exists()
