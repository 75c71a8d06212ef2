"""Tests of rustmemodb_lab: browser."""
