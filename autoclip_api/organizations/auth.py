from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from autoclip_api.auth.dependencies import AuthorizeOrg
from autoclip_api.auth.permissions import Permission
from autoclip_api.auth.subject import OrgAccess

OrgSettingsModify = Annotated[OrgAccess, Depends(AuthorizeOrg(Permission.SETTINGS_MODIFY))]
OrgMember = Annotated[OrgAccess, Depends(AuthorizeOrg(None))]
