"""Tests of the NB201 supernet and its meta-learners."""
