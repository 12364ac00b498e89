
BlogitsJ(Y\¿ß5?…DÞ>xß?À$Ä½Pm/?2Ê£¿øWr¿]„¿pI»¼