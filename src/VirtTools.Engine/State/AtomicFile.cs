using System.Text;

namespace VirtTools.State;

/// <summary>
/// The one way VirtTools writes a file it owns (state records, modprobe.d, an exported profile, a snapshot): a new
/// file with a random name in the target's own folder (O_CREAT|O_EXCL|O_NOFOLLOW, so nothing planted there is
/// opened), an explicit mode whatever the umask, the data fsynced, a rename over the target, the folder fsynced.
/// A reader sees the old file or the new one, never half of one, and a crash leaves one of the two.
/// A target that is a symlink is refused (<see cref="StateErrors.FileIsSymlinkId"/>): VirtTools never creates one,
/// so a link there was planted, and replacing it silently would hide that.
/// </summary>
/// <remarks>OS failures surface as .NET's own file calls raise them: UnauthorizedAccessException, IOException.</remarks>
public static class AtomicFile
{
    /// <summary>
    /// 0644, for every file VirtTools writes under /etc, /var/lib and /run: none holds a secret (addresses, driver
    /// names and ids anyone can read in sysfs), and readers that run without root (Get-UsbIpExport, -WhatIf) must
    /// see the records root wrote. Only root may change them: group and others never get write.
    /// </summary>
    public const UnixFileMode Public = (UnixFileMode)0b110_100_100;

    /// <summary>0600, for files only their owner should read (a snapshot of a host's state).</summary>
    public const UnixFileMode OwnerOnly = (UnixFileMode)0b110_000_000;

    public static void WriteText(string path, string text, UnixFileMode mode) =>
        Write(path, mode, stream => stream.Write(Encoding.UTF8.GetBytes(text)));

    /// <summary>Replaces <paramref name="path"/> with what <paramref name="write"/> puts in the stream it is given.</summary>
    public static void Write(string path, UnixFileMode mode, Action<Stream> write)
    {
        var (folderPath, name) = Split(path);
        using var folder = StateFolder.Open(folderPath);
        if (folder.IsSymlink(name)) throw StateErrors.FileIsSymlink(path);
        var temporary = CreateTemporary(folder, name, mode, out var handle);
        try
        {
            using (var stream = new FileStream(handle, FileAccess.Write, 0))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            folder.Rename(temporary, name);
        }
        catch
        {
            folder.Unlink(temporary);
            throw;
        }
        folder.Sync();
    }

    /// <summary>Deletes <paramref name="path"/> when it exists; a symlink there is refused as it is for a write.</summary>
    public static void Delete(string path)
    {
        var (folderPath, name) = Split(path);
        if (!Directory.Exists(folderPath)) return;
        using var folder = StateFolder.Open(folderPath);
        if (folder.IsSymlink(name)) throw StateErrors.FileIsSymlink(path);
        folder.Unlink(name);
        folder.Sync();
    }

    /// <summary>
    /// The whole text of <paramref name="path"/>; null when there is no such file. A symlink is refused, and a file
    /// longer than <paramref name="maxBytes"/> is an <see cref="InvalidDataException"/>: no file makes us read without end.
    /// </summary>
    public static string? ReadText(string path, int maxBytes)
    {
        if (new FileInfo(path).LinkTarget is not null) throw StateErrors.FileIsSymlink(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            if (stream.Length > maxBytes) throw new InvalidDataException($"{path} is {stream.Length} bytes, more than the {maxBytes} a VirtTools file can be.");
            var buffer = new byte[stream.Length];
            stream.ReadExactly(buffer);
            return Encoding.UTF8.GetString(buffer);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    internal static (string Folder, string Name) Split(string path)
    {
        var full = Path.GetFullPath(path);
        return (Path.GetDirectoryName(full) ?? "/", Path.GetFileName(full));
    }

    private static string CreateTemporary(StateFolder folder, string name, UnixFileMode mode, out Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        // 64 random bits: nobody can plant a link at a name they cannot guess, and O_EXCL|O_NOFOLLOW refuses one
        // anyway. Random.Shared, not RandomNumberGenerator: that one needs OpenSSL, which a minimal hypervisor host
        // (and the lab's guest) does not have, and .NET aborts the process when it cannot load it.
        for (int attempt = 1; ; attempt++)
        {
            var temporary = $".{name}.{Random.Shared.NextInt64():x16}.tmp";
            try
            {
                handle = folder.CreateNew(temporary, mode);
                return temporary;
            }
            catch (IOException e) when (e.HResult == Libc.EEXIST && attempt < 3)
            {
            }
        }
    }
}
