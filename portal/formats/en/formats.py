"""English dates as the console has always shown them: day before month, ISO for the short forms.

Django's own English formats are American (11/22/2026); the console's partners are mostly European.
German, French and Japanese use Django's formats for those languages.
"""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
