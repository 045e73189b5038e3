"""Operations that own every write: check policy, apply workflow and domain rules, write, commit, notify."""
