using System.Text;

namespace VirtTools.Config;

/// <summary>
/// Reads a host profile's text within <see cref="ProfileLimits.MaxBytes"/>: a file that says it is larger is refused
/// before a byte is read, and no more than the limit plus one byte is ever read, so a file that lies about its size
/// (a device such as /dev/zero, a file still being written) is refused as soon as it goes past the limit.
/// </summary>
internal static class ProfileFile
{
    public static string Read(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            if (file.CanSeek && file.Length > ProfileLimits.MaxBytes) throw ConfigErrors.TooLarge(path, file.Length);
            var bytes = new byte[ProfileLimits.MaxBytes + 1];
            var read = 0;
            for (int n; read < bytes.Length && (n = file.Read(bytes, read, bytes.Length - read)) > 0;) read += n;
            if (read > ProfileLimits.MaxBytes) throw ConfigErrors.TooLarge(path, null);
            return Decode(bytes, read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw ConfigErrors.NotFound(path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ConfigErrors.Unreadable(path, e);
        }
    }

    /// <summary>UTF-8, or what a byte order mark says: as File.ReadAllText decodes.</summary>
    private static string Decode(byte[] bytes, int count)
    {
        using var reader = new StreamReader(new MemoryStream(bytes, 0, count), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }
}
