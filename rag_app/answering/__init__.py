"""Answering from passages: the pipeline of one question, the evidence it quotes, the
confidence it weighs, the prompts, the check of the model's words, and the answer it streams."""
