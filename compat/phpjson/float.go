package phpjson

import "strconv"

// fixedMaxDecpt is php_gcvt's ndigit when serialize_precision is -1: a float whose decimal point sits further
// right than 17 digits is written in exponential form.
const fixedMaxDecpt = 17

// appendFloat appends f as json_encode writes a finite double with serialize_precision = -1: the shortest
// digits that read back as f (zend_dtoa mode 0, which strconv's shortest formatting matches), laid out by
// php_gcvt(f, 17, '.', 'e').
func appendFloat(dst []byte, f float64) []byte {
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	if s[0] == '-' {
		dst = append(dst, '-')
		s = s[1:]
	}
	var digitBuf [17]byte
	digits := append(digitBuf[:0], s[0])
	i := 1
	if s[i] == '.' {
		for i++; s[i] != 'e'; i++ {
			digits = append(digits, s[i])
		}
	}
	exp := 0
	for _, c := range s[i+2:] {
		exp = exp*10 + int(c-'0')
	}
	if s[i+1] == '-' {
		exp = -exp
	}
	// decpt places the decimal point as zend_dtoa does: f = 0.d1d2... × 10^decpt.
	decpt := exp + 1

	switch {
	case decpt < -3 || decpt > fixedMaxDecpt:
		// 1.0e+25, 1.5e-7: PHP writes ".0" when there is a single digit.
		dst = append(dst, digits[0], '.')
		if len(digits) == 1 {
			dst = append(dst, '0')
		}
		dst = append(dst, digits[1:]...)
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	case decpt <= 0:
		// 0.0001: zeros after the point, then the digits.
		dst = append(dst, '0', '.')
		for ; decpt < 0; decpt++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	case decpt >= len(digits):
		// 2, 10000000000000000: no fraction, so no point at all.
		dst = append(dst, digits...)
		for range decpt - len(digits) {
			dst = append(dst, '0')
		}
		return dst
	default:
		dst = append(dst, digits[:decpt]...)
		dst = append(dst, '.')
		return append(dst, digits[decpt:]...)
	}
}
