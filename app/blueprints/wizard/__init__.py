"""The ticket wizard shown to code users and to staff: a WTForms form per step type and the one view of a step."""
