from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from autoclip_api.auth.dependencies import Authorize
from autoclip_api.auth.permissions import Permission
from autoclip_api.auth.subject import AuthSubject

ProjectsRead = Annotated[AuthSubject, Depends(Authorize(Permission.PROJECTS_READ))]
ProjectsCreate = Annotated[AuthSubject, Depends(Authorize(Permission.PROJECTS_CREATE))]
ProjectsUpdate = Annotated[AuthSubject, Depends(Authorize(Permission.PROJECTS_UPDATE))]
ProjectsDelete = Annotated[AuthSubject, Depends(Authorize(Permission.PROJECTS_DELETE))]
