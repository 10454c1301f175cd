"""Text rules, once: language and words (``language``), sentences and evidence units
(``units``), citations and support (``claims``).

Prompting, answering (evidence and its check), evaluation and the keyword index all import
these; none of them keeps a copy. Pure functions, no model.
"""
