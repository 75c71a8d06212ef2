"""Tests of rustmemodb_lab: notebooks."""
