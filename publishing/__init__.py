"""Publication the Vietnamese way: Decree 30 documents, numbers, digital signatures, reports."""
