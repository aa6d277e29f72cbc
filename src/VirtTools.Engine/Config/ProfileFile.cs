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
            var text = new MemoryStream(file.CanSeek ? (int)file.Length + 1 : 0); // a file's size is a hint: it may grow
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = file.Read(chunk, 0, (int)Math.Min(chunk.Length, ProfileLimits.MaxBytes + 1 - text.Length))) > 0)
            {
                text.Write(chunk, 0, read);
                if (text.Length > ProfileLimits.MaxBytes) throw ConfigErrors.TooLarge(path, null);
            }
            text.Position = 0;
            return Decode(text);
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
    private static string Decode(Stream bytes)
    {
        using var reader = new StreamReader(bytes, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }
}
