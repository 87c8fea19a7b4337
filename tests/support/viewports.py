"""The two screen sizes every page is looked at in: a phone's and a desktop's."""

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
