"""Transcription stage: a call recording in, a speaker-attributed Transcript and its metrics out."""
