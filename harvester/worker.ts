/** Worker-thread entry (filled in with the decode/encode work). */
export {};
