"""Train, evaluate, export and serve face-recognition models of one's own (PyTorch; ``pip install .[training]``).

Only ``training.align`` and the data readers work without torch; everything else imports it lazily.
"""
