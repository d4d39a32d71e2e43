"""Animal names (services/animals.py): stable per user id, two words from fixed lists."""

from __future__ import annotations

from heliograph.services.animals import ADJECTIVES, ANIMALS, animal_name


def test_animal_name_is_stable_and_from_the_lists() -> None:
    """The same id always gives the same name, an adjective and an animal."""
    adjective, animal = animal_name("5963c0d619a30a2e00de36b8").split()
    assert (animal_name("5963c0d619a30a2e00de36b8"), True, True) == (
        f"{adjective} {animal}", adjective in ADJECTIVES, animal in ANIMALS)


def test_animal_names_vary_between_users() -> None:
    """Different ids spread over many names."""
    assert 50 < len({animal_name(f"{n:024x}") for n in range(200)})


def test_animal_names_do_not_change_between_releases() -> None:
    """A user's name is part of what clients have shown: the lists and the hash are pinned."""
    assert ["Bright Moose", "Coral Bison"] == [animal_name("abc"), animal_name("abd")]
