package sapsim

import (
	"fmt"
	"strings"
)

// countries contains the ISO 3166-1 alpha-2 codes, which the simulator uses
// as its country keys (T005), as a standard SAP system does.
var countries = setOf(strings.Fields(`
	AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
	BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
	CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
	DE DJ DK DM DO DZ
	EC EE EG EH ER ES ET
	FI FJ FK FM FO FR
	GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
	HK HM HN HR HT HU
	ID IE IL IM IN IO IQ IR IS IT
	JE JM JO JP
	KE KG KH KI KM KN KP KR KW KY KZ
	LA LB LC LI LK LR LS LT LU LV LY
	MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
	NA NC NE NF NG NI NL NO NP NR NU NZ
	OM
	PA PE PF PG PH PK PL PM PN PR PS PT PW PY
	QA
	RE RO RS RU RW
	SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
	TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
	UA UG UM US UY UZ
	VA VC VE VG VI VN VU
	WF WS
	YE YT
	ZA ZM ZW`))

// regions contains the region keys (T005S) per country. A country missing
// from the map accepts any region, and a country mapped to an empty set
// accepts none.
//
// NOTE: the keys approximate SAP's standard customizing and are unverified
// for IN, NL and AT. Real systems differ.
var regions = map[string]map[string]bool{
	"DE": setOf(numbered(1, 16, 2)),
	"US": setOf(strings.Fields(`
		AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO
		MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
		DC PR GU VI AS MP`)),
	"GB": {},
	"SI": setOf(numbered(1, 213, 3)),
	"CA": setOf(strings.Fields("AB BC MB NB NL NS NT NU ON PE QC SK YT")),
	"AU": setOf(strings.Fields("ACT NSW NT QLD SA TAS VIC WA")),
	"IN": setOf(numbered(1, 37, 2)),
	"FR": setOf(append(numbered(1, 95, 2), "2A", "2B", "971", "972", "973", "974", "976")),
	"IT": setOf(strings.Fields(`
		AG AL AN AO AP AQ AR AT AV BA BG BI BL BN BO BR BS BT BZ CA CB CE CH CL CN
		CO CR CS CT CZ EN FC FE FG FI FM FR GE GO GR IM IS KR LC LE LI LO LT LU MB
		MC ME MI MN MO MS MT NA NO NU OR PA PC PD PE PG PI PN PO PR PT PU PV PZ RA
		RC RE RG RI RM RN RO SA SI SO SP SR SS SU SV TA TE TN TO TP TR TS TV UD VA
		VB VC VE VI VR VT VV`)),
	"ES": setOf(numbered(1, 52, 2)),
	"CH": setOf(strings.Fields("AG AI AR BE BL BS FR GE GL GR JU LU NE NW OW SG SH SO SZ TG TI UR VD VS ZG ZH")),
	"AT": setOf(strings.Fields("BGL KTN NOE OOE SBG STM TIR VBG WIE")),
	"NL": setOf(numbered(1, 12, 2)),
	"JP": setOf(numbered(1, 47, 2)),
}

// postalRule is the postal code check of one country (T005: length and
// whether only digits are allowed).
type postalRule struct {
	lengths []int // allowed lengths, or empty for any length up to 10
	numeric bool  // digits only, apart from the US ZIP+4 hyphen
}

var postalRules = map[string]postalRule{
	"US": {lengths: []int{5, 10}, numeric: true},
	"DE": {lengths: []int{5}, numeric: true},
	"FR": {lengths: []int{5}, numeric: true},
	"IT": {lengths: []int{5}, numeric: true},
	"ES": {lengths: []int{5}, numeric: true},
	"AT": {lengths: []int{4}, numeric: true},
	"CH": {lengths: []int{4}, numeric: true},
	"BE": {lengths: []int{4}, numeric: true},
	"DK": {lengths: []int{4}, numeric: true},
}

// languages maps SAP's one-character language keys (T002) to ISO 639-1.
var languages = map[string]string{
	"0": "SR", "1": "ZH", "2": "TH", "3": "KO", "4": "RO", "5": "SL", "6": "HR",
	"7": "MS", "8": "UK", "9": "ET", "A": "AR", "B": "HE", "C": "CS", "D": "DE",
	"E": "EN", "F": "FR", "G": "EL", "H": "HU", "I": "IT", "J": "JA", "K": "DA",
	"L": "PL", "M": "ZF", "N": "NL", "O": "NO", "P": "PT", "Q": "SK", "R": "RU",
	"S": "ES", "T": "TR", "U": "FI", "V": "SV", "W": "BG", "X": "LT", "Y": "LV",
}

// isoLanguages maps ISO 639-1 codes back to SAP language keys.
var isoLanguages = func() map[string]string {
	m := make(map[string]string, len(languages))
	for key, iso := range languages {
		m[iso] = key
	}
	return m
}()

// currencies contains the ISO 4217 codes the simulator accepts. SAP's
// currency keys (TCURC) equal them for these.
var currencies = setOf(strings.Fields(`
	AED ARS AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS
	INR ISK JPY KRW KWD MXN MYR NOK NZD PEN PHP PKR PLN QAR RON RSD RUB SAR SEK
	SGD THB TRY TWD UAH USD VND ZAR`))

func setOf(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// numbered returns the keys from..to, zero-padded to width digits.
func numbered(from, to, width int) []string {
	keys := make([]string, 0, to-from+1)
	for i := from; i <= to; i++ {
		keys = append(keys, fmt.Sprintf("%0*d", width, i))
	}
	return keys
}
