namespace VirtTools.Sysfs;

/// <summary>
/// Writes kernel attributes as `echo value &gt; file` does: O_TRUNC and a single unbuffered write(2), so the kernel
/// sees the whole value at once and its errno surfaces from that write. On a captured or synthetic root the
/// attributes are regular files, so a write there replaces the file; it never creates one, and never lands outside
/// the root (<see cref="SystemRoot.ResolveForWrite"/>).
/// </summary>
public sealed class FileKernelWriter : IKernelWriter
{
    private readonly SystemRoot _root;

    public FileKernelWriter(SystemRoot root) => _root = root;

    public void Write(string systemPath, string text)
    {
        // bufferSize 0: no FileStream buffering, so the kernel sees exactly one write and its error surfaces here.
        using var stream = new FileStream(_root.ResolveForWrite(systemPath), FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite, 0);
        stream.Write(System.Text.Encoding.ASCII.GetBytes(text));
    }
}
