"""Publication the Vietnamese way: Decree 30/2020 documents, numbers, digital signatures, reports."""
