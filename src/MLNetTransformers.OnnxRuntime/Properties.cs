using System.Runtime.CompilerServices;

// Every native signature is blittable (pointers, integers, bytes); the runtime marshaller is never involved.
[assembly: DisableRuntimeMarshalling]
