"""The published CIFAR-100 few-shot class splits, as (superclass, class) names.

CIFAR-FS: Bertinetto et al., "Meta-learning with differentiable closed-form solvers",
ICLR 2019 (splits ``bertinetto/{train,val,test}.txt`` of their r2d2 release), 64/16/20.
FC100: Oreshkin et al., "TADAM", NeurIPS 2018, superclasses 12/4/4 (supplementary).
"""

from __future__ import annotations

CIFAR_FS: dict[str, tuple[tuple[str, str], ...]] = {
    "train": (
        ("aquatic_mammals", "dolphin"), ("aquatic_mammals", "seal"),
        ("fish", "aquarium_fish"), ("fish", "ray"), ("fish", "trout"),
        ("flowers", "orchid"), ("flowers", "sunflower"), ("flowers", "tulip"),
        ("food_containers", "bottle"), ("food_containers", "bowl"), ("food_containers", "can"),
        ("food_containers", "cup"), ("food_containers", "plate"),
        ("fruit_and_vegetables", "apple"), ("fruit_and_vegetables", "mushroom"),
        ("fruit_and_vegetables", "orange"), ("fruit_and_vegetables", "pear"),
        ("household_electrical_devices", "clock"), ("household_electrical_devices", "keyboard"),
        ("household_furniture", "chair"), ("household_furniture", "couch"),
        ("insects", "bee"), ("insects", "caterpillar"), ("insects", "cockroach"),
        ("large_carnivores", "bear"), ("large_carnivores", "lion"),
        ("large_carnivores", "tiger"), ("large_carnivores", "wolf"),
        ("large_man-made_outdoor_things", "bridge"), ("large_man-made_outdoor_things", "castle"),
        ("large_man-made_outdoor_things", "house"), ("large_man-made_outdoor_things", "road"),
        ("large_man-made_outdoor_things", "skyscraper"),
        ("large_natural_outdoor_scenes", "cloud"), ("large_natural_outdoor_scenes", "forest"),
        ("large_natural_outdoor_scenes", "mountain"),
        ("large_omnivores_and_herbivores", "elephant"),
        ("large_omnivores_and_herbivores", "kangaroo"),
        ("medium_mammals", "porcupine"), ("medium_mammals", "possum"),
        ("medium_mammals", "raccoon"), ("medium_mammals", "skunk"),
        ("non-insect_invertebrates", "lobster"), ("non-insect_invertebrates", "spider"),
        ("people", "boy"), ("people", "girl"),
        ("reptiles", "dinosaur"), ("reptiles", "lizard"), ("reptiles", "snake"),
        ("reptiles", "turtle"),
        ("small_mammals", "hamster"), ("small_mammals", "mouse"), ("small_mammals", "rabbit"),
        ("small_mammals", "shrew"), ("small_mammals", "squirrel"),
        ("trees", "oak_tree"), ("trees", "palm_tree"), ("trees", "pine_tree"),
        ("trees", "willow_tree"),
        ("vehicles_1", "bus"), ("vehicles_1", "train"),
        ("vehicles_2", "lawn_mower"), ("vehicles_2", "streetcar"), ("vehicles_2", "tank"),
    ),
    "val": (
        ("aquatic_mammals", "beaver"), ("aquatic_mammals", "otter"),
        ("fish", "flatfish"), ("fish", "shark"),
        ("household_electrical_devices", "lamp"), ("household_electrical_devices", "television"),
        ("insects", "beetle"), ("insects", "butterfly"),
        ("large_natural_outdoor_scenes", "sea"),
        ("large_omnivores_and_herbivores", "camel"), ("large_omnivores_and_herbivores", "cattle"),
        ("non-insect_invertebrates", "crab"), ("reptiles", "crocodile"),
        ("trees", "maple_tree"), ("vehicles_1", "motorcycle"), ("vehicles_2", "tractor"),
    ),
    "test": (
        ("aquatic_mammals", "whale"), ("flowers", "poppy"), ("flowers", "rose"),
        ("fruit_and_vegetables", "sweet_pepper"), ("household_electrical_devices", "telephone"),
        ("household_furniture", "bed"), ("household_furniture", "table"),
        ("household_furniture", "wardrobe"), ("large_carnivores", "leopard"),
        ("large_natural_outdoor_scenes", "plain"),
        ("large_omnivores_and_herbivores", "chimpanzee"), ("medium_mammals", "fox"),
        ("non-insect_invertebrates", "snail"), ("non-insect_invertebrates", "worm"),
        ("people", "baby"), ("people", "man"), ("people", "woman"),
        ("vehicles_1", "bicycle"), ("vehicles_1", "pickup_truck"), ("vehicles_2", "rocket"),
    ),
}

FC100: dict[str, tuple[str, ...]] = {
    "train": (
        "fish", "flowers", "food_containers", "fruit_and_vegetables",
        "household_electrical_devices", "household_furniture", "large_man-made_outdoor_things",
        "large_natural_outdoor_scenes", "reptiles", "trees", "vehicles_1", "vehicles_2",
    ),
    "val": (
        "large_carnivores", "large_omnivores_and_herbivores", "non-insect_invertebrates",
        "small_mammals",
    ),
    "test": ("aquatic_mammals", "insects", "medium_mammals", "people"),
}



def _superclasses() -> dict[str, tuple[str, ...]]:
    """The CIFAR-100 hierarchy (superclass -> its five classes), read off CIFAR-FS."""
    members: dict[str, list[str]] = {}
    for pairs in CIFAR_FS.values():
        for coarse, fine in pairs:
            members.setdefault(coarse, []).append(fine)
    return {coarse: tuple(sorted(fine)) for coarse, fine in sorted(members.items())}


SUPERCLASSES: dict[str, tuple[str, ...]] = _superclasses()
