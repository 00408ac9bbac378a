"""Starting points: descriptions from an Ansible inventory, and a new GitOps repository."""
