from reports.models import Report, ReportStatus


def test_a_citizen_files_a_report_that_routing_sends_to_hepco(citizen, file_report):
    response = file_report(citizen)

    assert response.status_code == 201, response.json()
    report = Report.objects.get(reference=response.json()["reference"])
    assert report.status == ReportStatus.ROUTED
    assert report.agency.code == "hepco"
