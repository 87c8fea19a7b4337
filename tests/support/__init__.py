"""Helpers shared by the tests, one module per kind (no test module imports another):

- repo: the repository root `REPO`, the role catalogue, the shipped processes and forms
- builder: a tiny BPMN builder (`bpmn`, `Node`, `flows`, `render`, `start`, `user`, …)
- workspaces: in-memory process folders to validate or deploy (`workspace`, `OPEN`)
- steps: deploy a test process and drive its cases through the runtime (`put`, `begin`, `do`, …)
- http: the users' password, log-in through the form, API tokens
- uploads: tiny valid files to upload
- shipped: data for the shipped processes (the sample approval, the 135 request)
- services, timers, deadlines, supervision: processes, fakes and fixtures several test modules share

The names the old tests/support.py held stay importable from here (bench/ uses them).
"""

from tests.support.builder import HEADER, bpmn, form_props
from tests.support.http import PASSWORD, csrf_of, log_in
from tests.support.repo import REPO, ROLES, repo_files, sample_files
from tests.support.workspaces import OPEN_FORM, workspace

__all__ = ["HEADER", "OPEN_FORM", "PASSWORD", "REPO", "ROLES", "bpmn", "csrf_of", "form_props", "log_in",
           "repo_files", "sample_files", "workspace"]
