/* Calls a NULL function pointer: the CPU fetches its next instruction from
   address 0, which is not mapped once the program runs. */
int main(void)
{
    void (*volatile function)(void) = 0;
    function();
    return 0;
}
