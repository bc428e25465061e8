/*
 * bcryptprimitives.dll for wine 8.0, which lacks it: Go >= 1.22's Windows
 * runtime takes its random numbers from ProcessPrng there and dies at start
 * without it. This one answers from RtlGenRandom (advapi32's
 * SystemFunction036). Test use only: the tests put it in a wine prefix's
 * system32, where Go looks for it.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	while (length > 0) {
		ULONG n = length > 0x10000000 ? 0x10000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		length -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
	return TRUE;
}
