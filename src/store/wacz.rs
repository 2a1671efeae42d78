//! WACZ 1.1 export: the WARCs, a CDXJ index, pages and a datapackage.
