package sapsim

import (
	"fmt"
	"strings"

	"github.com/sfsap/sfsap/pkg/sap"
)

// simClass is the message class of messages that the simulator makes up
// where the text of the real SAP message is not known.
const simClass = "ZSIM"

// message is an SAP message as BAPIs return it in RETURN.
type message struct {
	typ    string
	id     string
	number string
	text   string
	vars   [4]string
}

// newMessage fills the placeholders of template: "&1" to "&4" name a
// variable, a bare "&" takes the next one in order, as SAP's message
// texts do.
func newMessage(typ, id, number, template string, vars ...string) message {
	m := message{typ: typ, id: id, number: number}
	copy(m.vars[:], vars)

	var b strings.Builder
	next := 0
	for i := 0; i < len(template); i++ {
		c := template[i]
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(template) && template[i+1] >= '1' && template[i+1] <= '4' {
			b.WriteString(m.vars[template[i+1]-'1'])
			i++
			continue
		}
		if next < len(m.vars) {
			b.WriteString(m.vars[next])
		}
		next++
	}
	m.text = b.String()
	return m
}

func messageFrom(m sap.Message) message {
	return message{typ: m.Type, id: m.ID, number: m.Number, text: m.Message}
}

func (m message) failed() bool { return m.typ == "E" || m.typ == "A" }

func (m message) numc3() string {
	if m.number == "" {
		return "000"
	}
	return fmt.Sprintf("%03s", m.number)
}

// bapiReturn1 returns the fields of structure BAPIRETURN1 (and BAPIRET1,
// which has the same fields).
func (m message) bapiReturn1() []field {
	return []field{
		{"TYPE", m.typ},
		{"ID", m.id},
		{"NUMBER", m.numc3()},
		{"MESSAGE", m.text},
		{"LOG_NO", ""},
		{"LOG_MSG_NO", "000000"},
		{"MESSAGE_V1", m.vars[0]},
		{"MESSAGE_V2", m.vars[1]},
		{"MESSAGE_V3", m.vars[2]},
		{"MESSAGE_V4", m.vars[3]},
	}
}

// bapiRet2 returns the fields of structure BAPIRET2.
func (m message) bapiRet2() []field {
	return append(m.bapiReturn1(),
		field{"PARAMETER", ""},
		field{"ROW", "0"},
		field{"FIELD", ""},
		field{"SYSTEM", ""},
	)
}

// Messages the simulator returns. The F2 and AR texts are SAP's. The ZSIM
// ones stand in for messages whose real class and number are not known.
func msgDebtorMissing(no string) message {
	return newMessage("E", "F2", "502", "Debtor &1 does not exist", no)
}

func msgNotInCompanyCode(no, companyCode string) message {
	return newMessage("E", "F2", "503", "Debtor &1 exists but has not been created in company code &2", no, companyCode)
}

func msgNotInSalesArea(no string, a SalesArea) message {
	return newMessage("E", "F2", "156", "Debtor &1 is not created for sales area &2 &3 &4",
		no, a.SalesOrg, a.DistributionChannel, a.Division)
}

func msgSalesAreaIncomplete() message {
	return newMessage("E", "F2", "267", "Please specify the sales area in full or not at all")
}

func msgCountryUnknown(country string) message {
	return newMessage("E", "AR", "001", "Country key &1 is not defined", country)
}

func msgRegionUnknown(region, country string) message {
	return newMessage("E", "AR", "002", "Region &1 is not defined for country &2", region, country)
}

func msgPostalLength(length string) message {
	return newMessage("E", "AR", "003", "Postal code must be of length &1", length)
}

func msgPostalDigits() message {
	return newMessage("E", "AR", "004", "Postal code may only contain numbers")
}

func msgPostalBlanks() message {
	return newMessage("E", "AR", "005", "Postal code cannot contain blanks")
}

func msgLocked(no, user string) message {
	return newMessage("E", "MC", "601", "Object requested is currently locked by user &1", user, no)
}

func msgSim(number, template string, vars ...string) message {
	return newMessage("E", simClass, number, template, vars...)
}
