using Microsoft.Win32.SafeHandles;

namespace VirtTools.Bench.Enumeration;

/// <summary>
/// The least a reader can do to see the same kernel data: open and read each file into one reused buffer,
/// read each link, list each directory. It counts what it touched so a floor can be checked against the
/// engine's reads, and parses nothing.
/// </summary>
public sealed class FloorReader
{
    private readonly byte[] _buffer = new byte[8192];

    public int Files { get; private set; }
    public long Bytes { get; private set; }

    /// <summary>Reads a whole file; -1 when it cannot be opened (a missing attribute still costs the open).</summary>
    public int Read(string path)
    {
        Files++;
        SafeFileHandle handle;
        try { handle = File.OpenHandle(path); }
        catch (IOException) { return -1; }
        using (handle)
        {
            int total = 0;
            while (total < _buffer.Length)
            {
                int n = RandomAccess.Read(handle, _buffer.AsSpan(total), total);
                if (n <= 0) break;
                total += n;
            }
            Bytes += total;
            return total;
        }
    }

    /// <summary>The text of a small file, for the few values a floor must look at to know what to read next.</summary>
    public ReadOnlySpan<byte> ReadSpan(string path)
    {
        int n = Read(path);
        return n <= 0 ? ReadOnlySpan<byte>.Empty : _buffer.AsSpan(0, n);
    }

    public static string? Link(string path)
    {
        try { return new FileInfo(path).LinkTarget; }
        catch (IOException) { return null; }
    }

    public static IEnumerable<string> Entries(string directory)
    {
        try { return Directory.EnumerateFileSystemEntries(directory); }
        catch (DirectoryNotFoundException) { return Array.Empty<string>(); }
    }
}
