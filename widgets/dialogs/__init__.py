"""Modal screens: forms, pickers, confirmations, help, describe, the rotation calendar."""
