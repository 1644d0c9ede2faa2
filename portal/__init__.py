"""The web portal: reviewers' link pages, the Office's board, the auditors' history."""
