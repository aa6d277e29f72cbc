namespace VirtTools.Sysfs;

/// <summary>
/// The one way the engine writes to a kernel attribute (sysfs, procfs). A root owns its writer
/// (<see cref="SystemRoot.Writer"/>): the real one writes the file under the root; a sandbox's kernel
/// (<see cref="Sandbox.SandboxKernel"/>) applies the kernel's semantics to its tree. Implementations fail exactly as a write(2) to the file does on .NET:
/// EACCES/EPERM as <see cref="UnauthorizedAccessException"/>, ENOENT as <see cref="FileNotFoundException"/> or
/// <see cref="DirectoryNotFoundException"/>, any other errno as an <see cref="IOException"/> whose HResult is the errno.
/// </summary>
public interface IKernelWriter
{
    /// <summary>Writes <paramref name="text"/> (already ending in a newline when one is wanted) in one write(2).</summary>
    void Write(string systemPath, string text);
}
