"""Who may do what with content items (the one permission table, ``auth/permissions.py``):
``projects.read`` to read them, ``contents.create`` to make, edit, generate and delete them,
``contents.approve`` for the review decisions, ``contents.publish`` to publish."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from autoclip_api.auth.dependencies import Authorize
from autoclip_api.auth.permissions import Permission
from autoclip_api.auth.subject import AuthSubject

ContentsRead = Annotated[AuthSubject, Depends(Authorize(Permission.PROJECTS_READ))]
ContentsCreate = Annotated[AuthSubject, Depends(Authorize(Permission.CONTENTS_CREATE))]
ContentsApprove = Annotated[AuthSubject, Depends(Authorize(Permission.CONTENTS_APPROVE))]
ContentsPublish = Annotated[AuthSubject, Depends(Authorize(Permission.CONTENTS_PUBLISH))]
