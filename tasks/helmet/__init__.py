"""HELMET (princeton-nlp/HELMET): seven categories of long-context tasks on its published data, sized to any length."""
