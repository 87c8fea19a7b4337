"""Process definitions: the files of processes/ and forms/ (workspace) → compiled, validated, content-addressed
versions (compiler, lint, registry), with the role catalogue, JSON-Schema forms and their write scope, and the
document templates, and the constructs refused because SpiffWorkflow would not run them
as the specification says (unsupported).

May import `base`, `store`, `bpmn`.
"""
