"""Tests of the NB201 supernet and its meta-learners (issue 4, part A)."""
