"""The uploaded list: every way an administrator's spreadsheet writes a number, bad rows reported, duplicates once."""

from openpyxl import Workbook

from campaigns.audience import read_file, read_rows


def test_a_french_csv_with_its_header_semicolons_and_national_numbers(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_text(
        "Numéro;Nom;Langue\n"
        "97 00 00 01;Aïcha;français\n"
        "+229 01 97 00 00 02;Koffi;\n"
        "0197000001;Aïcha bis;fr\n"  # the first number again, written another way
        "12;Trop court;fr\n"
        "5512 3456;Ana;español\n",
        encoding="utf-8",
    )
    audience = read_file(path)
    assert [row["msisdn"] for row in audience.rows] == ["+2290197000001", "+2290197000002", "+50255123456"]
    assert [row["language"] for row in audience.rows] == ["fr", "", "es"]
    assert audience.rows[0]["name"] == "Aïcha"
    assert audience.duplicates == 1
    assert audience.rejected == [{"line": "5", "value": "12", "reason": "not a valid mobile number"}]


def test_a_list_without_header_is_numbers_in_its_first_column():
    audience = read_rows([["+50255123456", "x"], ["not a number"], [], ["+50255123457"]])
    assert [row["msisdn"] for row in audience.rows] == ["+50255123456", "+50255123457"]
    assert audience.rejected[0]["line"] == "2"


def test_an_xlsx_whose_numbers_became_numbers(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["phone", "name", "language", "segment"])
    sheet.append([22997000003, "John", "English", "prepaid"])  # a number cell: 22997000003, no "+"
    sheet.append([22997000003.0, "John again", "en", "prepaid"])
    sheet.append(["abc", "", "", ""])
    path = tmp_path / "list.xlsx"
    book.save(path)
    audience = read_file(path)
    assert audience.rows == [{"msisdn": "+2290197000003", "name": "John", "language": "en", "segment": "prepaid"}]
    assert audience.duplicates == 1
    assert len(audience.rejected) == 1


def test_a_region_given_reads_national_numbers_there_first():
    audience = read_rows([["number"], ["5512 3456"]], regions=["GT"])
    assert audience.rows[0]["msisdn"] == "+50255123456"
